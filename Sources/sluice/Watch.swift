import ArgumentParser
import FoundationEssentials
import SluiceController
import SluiceCore

struct Watch: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "watch",
        abstract: "Run the controller: reconcile every configured repository, serve webhooks, /metrics and the web UI.",
        discussion: """
        A configuration with any error is refused (exit 2) with its located errors. SIGTERM or Ctrl-C \
        stops polling, lets running pipelines finish for --grace seconds (then cancels them; a restart \
        redoes them), and exits 0.
        """
    )

    @OptionGroup var global: GlobalOptions

    @Option(help: "The controller configuration file.")
    var config: String

    @Option(help: "Seconds running pipelines may take to finish after SIGTERM.")
    var grace: Int = 30

    @Flag(help: "Only check the configuration (and that its secrets are set), then exit.")
    var check = false

    @Option(help: "The log's format: text (one line per event) or json (one object per line).")
    var logFormat: LogOutput.Format = .text

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        LogOutput.bootstrap(format: logFormat, environment: environment)
        let metrics = Controller.bootstrapMetrics()
        let controller: Controller
        do {
            let settings = try ControllerSettings.load(path: config, environment: environment)
            for d in DiagnosticRenderer.sorted(settings.warnings) { Output.err(DiagnosticRenderer.line(d)) }
            if check {
                Output.out("\(config): valid (\(Output.count(settings.config.repositories.count, "repository", "repositories")))")
                return
            }
            controller = try Controller(settings: settings, stateDirectory: global.stateDirectory, environment: environment,
                                        metrics: metrics, say: { Output.err($0) })
        } catch let e as DiagnosticsError {
            for d in DiagnosticRenderer.sorted(e.diagnostics) { Output.err(DiagnosticRenderer.line(d)) }
            throw ExitCode(2)
        } catch {
            throw Output.fail(error)
        }
        try await controller.run(grace: Double(grace), listening: { Output.immediate($0) })
        Output.immediate("sluice: stopped")
    }
}
