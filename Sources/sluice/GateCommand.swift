import ArgumentParser
import FoundationEssentials
import SluiceController
import SluiceCore

struct GateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gate",
        abstract: "Judge candidate metrics against production under a policy, in any CI.",
        discussion: """
        Prints the gate report (Markdown, or JSON with --format json). Exit 0 when the candidate \
        passes (promote), 1 when it fails (reject), 2 when it cannot be evaluated (unreadable or \
        invalid files). Production's metrics come from --production, or from the registry in \
        --state for --model; with neither, only absolute bounds apply.
        """
    )

    @OptionGroup var global: GlobalOptions

    @Option(help: "The candidate's metrics file (JSON or YAML).")
    var candidate: String

    @Option(help: "The policy file.")
    var policy: String

    @Option(help: "Production's metrics file.")
    var production: String?

    @Option(help: "Take production from the registry for this model.")
    var model: String?

    @Option(help: "With --model: embedded (the run store in --state) or mlflow (MLFLOW_TRACKING_URI).")
    var registry: String = "embedded"

    func run() async throws {
        let report: GateReport
        do {
            let baseline: StandaloneGate.Baseline = production.map { .file($0) }
                ?? model.map { .registry(model: $0, kind: registry, stateDirectory: global.stateDirectory, environment: ProcessInfo.processInfo.environment) }
                ?? .none
            report = try StandaloneGate.evaluate(policy: policy, candidate: candidate, baseline: baseline)
        } catch let error as MetricRange.OutOfRange {
            Output.err("sluice: the gate could not be evaluated: \(error)")
            throw ExitCode(2)
        } catch {
            throw Output.fail(error)
        }
        try Output.gateReport(report, format: global.format)
    }
}
