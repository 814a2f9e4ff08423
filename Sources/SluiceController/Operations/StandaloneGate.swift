import FoundationEssentials
public import SluiceCore
import SluiceStore

/// `sluice gate`: judges a metrics file against production under a policy, outside a pipeline
/// (any CI can call it). Production's metrics come from a file, or from the registry for a
/// model; with neither, only absolute bounds apply. Decided by `Verdict.decide` as the
/// production branch's candidate would be.
public enum StandaloneGate {
    /// Where production's metrics come from.
    public enum Baseline: Sendable {
        case none
        case file(String)
        /// The production version of `model` in the registry of this kind, in `stateDirectory`.
        case registry(model: String, kind: String, stateDirectory: String, environment: [String: String])
    }

    /// Throws `MetricRange.OutOfRange` when a value cannot be judged, `LoadError` or
    /// `DiagnosticsError` when a file cannot be read.
    public static func evaluate(policy: String, candidate: String, baseline source: Baseline) throws -> GateReport {
        let rules = try PolicyLoader.policy(bytes: PolicyLoader.read(policy), file: policy)
        let metrics = try PolicyLoader.metrics(bytes: PolicyLoader.read(candidate), file: candidate)
        var baseline: Gate.Baseline?
        var model: String?
        switch source {
        case .none:
            break
        case .file(let path):
            baseline = Gate.Baseline(version: "`\(path)`", metrics: try PolicyLoader.metrics(bytes: PolicyLoader.read(path), file: path))
        case .registry(let name, let kind, let stateDirectory, let environment):
            guard let registry = GateSpec.Registry(rawValue: kind) else {
                throw LoadError(message: "unknown registry '\(kind)'", hint: "use embedded or mlflow")
            }
            var gate = GateSpec(policy: policy, location: SourceLocation(file: "", line: 1, column: 1))
            gate.registry = registry
            let store = try RunStores.open(stateDirectory: stateDirectory, environment: environment)
            let source = try RunService.registry(for: gate, store: store, environment: environment)
            baseline = try Promotion(store: store, registry: source).production(model: name).version
                .map { Gate.Baseline(version: "version \($0.version)", metrics: $0.metrics) }
            model = name
        }
        do throws(MetricRange.OutOfRange) {
            try MetricRange.check(policy: rules, candidate: metrics, production: baseline?.metrics)
        } catch {
            var file: String?
            if error.side == "candidate" { file = candidate } else if case .file(let path) = source { file = path }
            guard let file else { throw error }
            throw PolicyLoader.locate(error, in: [(file, try PolicyLoader.read(file))]) { _, at in "\(at)" }
        }
        let evaluated = Gate.evaluate(policy: rules, candidate: metrics, production: baseline)
        let decision = Verdict.decide(Verdict.Facts(rulesPassed: evaluated.rows.allSatisfy(\.passed), dataChecksPassed: true, hasMetrics: true,
                                                    isProductionRef: true))
        return GateReport(model: model ?? "", repository: "", ref: nil, commit: "", run: 0, policy: policy,
                          decision: decision.verdict, passed: decision.passed,
                          production: baseline.map { GateReport.Production(version: $0.version, commit: "", promotedAt: 0) },
                          metrics: evaluated.rows, dataChecks: [], stages: [], datasetVersions: [:], parameters: [:],
                          artifacts: [], notes: evaluated.notes + decision.reasons.filter { !Verdict.summaryReasons.contains($0) })
    }
}
