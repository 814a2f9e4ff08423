import ArgumentParser
import FoundationEssentials
import SluiceController
import SluiceCore
import SluiceRegistry
import SluiceStore

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
            let rules = try PolicyLoader.policy(bytes: PolicyLoader.read(policy), file: policy)
            let metrics = try PolicyLoader.metrics(bytes: PolicyLoader.read(candidate), file: candidate)
            var baseline: Gate.Baseline?
            if let production {
                baseline = Gate.Baseline(version: "`\(production)`", metrics: try PolicyLoader.metrics(bytes: PolicyLoader.read(production), file: production))
            } else if let model {
                guard let kind = GateSpec.Registry(rawValue: registry) else {
                    throw LoadError(message: "unknown registry '\(registry)'", hint: "use embedded or mlflow")
                }
                var gate = GateSpec(policy: policy, location: SourceLocation(file: "", line: 1, column: 1))
                gate.registry = kind
                let store = try RunStore(stateDirectory: global.stateDirectory)
                let source = try RunService.registry(for: gate, store: store, environment: ProcessInfo.processInfo.environment)
                baseline = try Promotion(store: store, registry: source).production(model: model).version
                    .map { Gate.Baseline(version: "version \($0.version)", metrics: $0.metrics) }
            }
            try MetricRange.check(policy: rules, candidate: metrics, production: baseline?.metrics)
            let evaluated = Gate.evaluate(policy: rules, candidate: metrics, production: baseline)
            // Judged as the production branch's candidate would be: the rules decide promote or reject.
            let decision = Verdict.decide(Verdict.Facts(rulesPassed: evaluated.rows.allSatisfy(\.passed), dataChecksPassed: true, hasMetrics: true,
                                                        isProductionRef: true))
            report = GateReport(model: model ?? candidate, repository: "", ref: nil, commit: "", run: 0, policy: policy,
                                decision: decision.verdict, passed: decision.passed,
                                production: baseline.map { GateReport.Production(version: $0.version, commit: "", promotedAt: 0) },
                                metrics: evaluated.rows, dataChecks: [], stages: [], datasetVersions: [:], parameters: [:],
                                artifacts: [], notes: evaluated.notes + decision.reasons.filter { !Verdict.summaryReasons.contains($0) })
        } catch let error as MetricRange.OutOfRange {
            Output.err("sluice: the gate could not be evaluated: \(error)")
            throw ExitCode(2)
        } catch {
            throw Output.fail(error)
        }
        try Output.gateReport(report, format: global.format)
    }
}
