import ArgumentParser
import FoundationEssentials
import SluiceController
import SluiceCore

struct Notifications: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "notifications",
        abstract: "List the controller's notification deliveries, newest first: each event, the provider, and what the receiver answered.")

    @OptionGroup var global: GlobalOptions

    @Option(parsing: .unconditional, help: "How many deliveries to show.")
    var limit: Int = 20

    func validate() throws {
        if limit < 1 { throw ValidationError("--limit must be 1 or more, got \(limit)") }
    }

    func run() async throws {
        let deliveries: [NotificationDelivery]
        do { deliveries = try NotificationOperations.deliveries(stateDirectory: global.stateDirectory, environment: ProcessInfo.processInfo.environment, limit: limit) } catch {
            throw Output.fail(error)
        }
        if global.format == .json {
            try Output.json(deliveries)
            return
        }
        if deliveries.isEmpty {
            Output.out("no notifications yet: the controller records them once notifications: has providers and routes")
            return
        }
        let widths = [21, 32, 14, 10, 9]
        Output.out(["CREATED (UTC)", "EVENT", "PROVIDER", "STATE", "ATTEMPTS", "ANSWER"].enumerated()
            .map { $0.offset < widths.count ? RunSummary.pad($0.element, widths[$0.offset]) : $0.element }.joined())
        for d in deliveries {
            let created = String(Runs.timestamp(d.createdAt).prefix(19)).replacingOccurrences(of: "T", with: " ")
            let answer = d.lastError ?? d.lastStatus.map { "HTTP \($0)" } ?? "-"
            let fields = [created, d.event.kind.rawValue, d.provider, d.state.rawValue, String(d.attempts)]
            Output.out(fields.enumerated().map { RunSummary.pad($0.element, widths[$0.offset]) }.joined() + answer)
            Output.out("    " + d.event.title)
        }
    }
}

struct Notify: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "notify", abstract: "Try the controller's notification providers.", subcommands: [NotifyTest.self])
}

struct NotifyTest: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "test",
        abstract: "Send one sample event (a rejected candidate) to a provider and print what its receiver answered.",
        discussion: "Reads the provider's URL and secret from the variables or files the configuration names, as sluice watch does. Exit 1 when the receiver does not accept it.")

    @Option(help: "The controller configuration file.")
    var config: String

    @Option(help: "The provider's name under notifications.providers.")
    var provider: String

    func run() async throws {
        let answer: NotificationOperations.TestAnswer
        do {
            let settings = try ControllerSettings.load(path: config, environment: ProcessInfo.processInfo.environment)
            answer = try NotificationOperations.sendTest(settings: settings, provider: provider)
        } catch let e as DiagnosticsError {
            for d in DiagnosticRenderer.sorted(e.diagnostics) { Output.err(DiagnosticRenderer.line(d)) }
            throw ExitCode(2)
        } catch {
            throw Output.fail(error)
        }
        Output.out("\(provider): HTTP \(answer.status)\(answer.body.isEmpty ? "" : ": \(answer.body)")")
        if !(200..<300).contains(answer.status) { throw ExitCode(1) }
    }
}
