import ArgumentParser
import FoundationEssentials
import SluiceController
import SluiceCore

/// `sluice approve MODEL VERSION --to ENV`: lets a version into a `promote: manual` environment.
struct Approve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "approve",
        abstract: "Approve a model version into an environment whose promotion is manual, and move it on.",
        discussion: "Recorded in the environment step log with who and why. The version must be verified in the environment before; exit 1 when it fails there, 2 when it cannot be approved."
    )

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The model.") var model: String
    @Argument(help: "The version.") var version: String
    @Option(help: "The environment to let it into.") var to: String
    @Option(help: "Why (recorded).") var reason: String
    @Option(help: "Who is approving (default: $USER).") var actor: String?

    func run() async throws {
        let context: ModelOperations
        let progress: EnvironmentChain.Progress
        do {
            context = try ModelOperations(global, model: model)
            progress = try await context.approve(version: version, into: to, actor: actor ?? OperatorName.current(environment: ProcessInfo.processInfo.environment),
                                                 reason: reason, say: { Output.out($0) })
        } catch {
            throw Output.fail(error)
        }
        Output.out("environments: \(progress.position)")
        context.push(progress.refs, global)
        if progress.failure != nil { throw ExitCode(1) }
    }
}

/// `sluice environments [MODEL]`: where each version stands in the chain.
struct EnvironmentsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "environments",
        abstract: "Where each model version stands in its environments (the step log), and move on those whose soak is over.",
        discussion: "With --advance, versions whose next step is due (a soak that ended, an approval) move on, as the controller does at each poll."
    )

    @OptionGroup var global: GlobalOptions
    @Option(help: "The model (default: gate.model in sluice.yaml, else the repository's folder name).") var model: String?
    @Flag(help: "Move on the versions whose next step is due.") var advance = false

    func run() async throws {
        do {
            let context = try ModelOperations(global, model: model)
            if advance {
                try await context.advanceDue(actor: "sluice environments --advance", say: { Output.out($0) }) { version, progress in
                    Output.out("version \(version): \(progress.position)")
                    context.push(progress.refs, global)
                }
            }
            let steps = try context.environmentSteps()
            if global.format == .json { return try Output.json(steps) }
            if steps.isEmpty { return Output.out("\(context.model) has no environment steps yet") }
            for s in steps {
                Output.out("\(EnvironmentChain.time(s.createdAt))  version \(s.version)  \(s.environment)  \(s.state.rawValue)  \(s.detail)"
                           + "  (\(s.actor)\(s.reason.map { ": \($0)" } ?? ""))")
            }
        } catch {
            throw Output.fail(error)
        }
    }
}
