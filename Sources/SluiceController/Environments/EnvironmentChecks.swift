import FoundationEssentials
public import SluiceCore
public import SluiceGit
import SluicePrometheus
public import SluiceStore
import SluiceRunner
import Synchronization

/// Runs an environment's `verify` checks once it is healthy: commands (smoke tests against the
/// deployed model) in a checkout of the version's commit, and Prometheus analyses.
public struct EnvironmentChecks: Sendable {
    public struct Result: Sendable, Hashable, Codable {
        public var check: String
        public var verdict: CheckVerdict
        /// What was seen: the command's exit and last lines, the analysis's measured values.
        public var detail: String
        /// An analysis's measurements, for its chart.
        public var series: AnalysisSeries? = nil
        /// A comparison's samples of both versions and its judgement.
        public var comparison: ComparisonSeries? = nil

        /// `smoke passed`, `latency passed (mean +2.1 %, p = 0.38)`: what a step it let through records.
        public var said: String {
            "\(check) \(verdict.rawValue)" + (comparison.map { " (\($0.judgement.brief))" } ?? "")
        }
    }

    /// Sluice's environment (commands get its allow-listed part; `PROMETHEUS_URL`).
    public let environment: [String: String]
    public let stateDirectory: String
    /// Where the version's model files come from (restored into a command's checkout).
    public let store: RunStore?
    /// Runs a command check as a Kubernetes Job (the pipeline's runner is `kubernetes`): the
    /// check as a stage, and its checkout as the workspace; nil: commands run here.
    public var pod: (@Sendable (StageSpec, String) async -> (passed: Bool, detail: String))?

    public init(environment: [String: String], stateDirectory: String, store: RunStore? = nil) {
        self.environment = environment
        self.stateDirectory = stateDirectory
        self.store = store
    }

    /// The facts a command check gets as variables.
    public static func variables(model: String, version: String, deploy: DeploySpec) -> [String: String] {
        var v = ["SLUICE_ENVIRONMENT": deploy.environment, "SLUICE_MODEL": model, "SLUICE_MODEL_VERSION": version,
                 "SLUICE_NAMESPACE": deploy.namespace ?? "default"]
        for kv in deploy.values { v["SLUICE_ENV_\(StageEnvironment.variableName(kv.key))"] = kv.value }
        return v
    }

    /// Runs every check in order; stops at the first that does not pass.
    /// - Parameters:
    ///   - modelDigest, runID: the version's model output, restored at its declared path in a
    ///     command's checkout, so a smoke test can serve the very files that were gated.
    ///   - baselines: the versions a comparison may be measured against.
    public func run(_ checks: [VerifyCheck], model: String, version: String, commit: GitCommit, deploy: DeploySpec,
                    modelDigest: String? = nil, runID: Int64? = nil, baselines: Baselines = Baselines(),
                    say: @escaping @Sendable (String) -> Void) async -> [Result] {
        var results: [Result] = []
        for check in checks {
            let result: Result
            switch check.kind {
            case .command(let command, let timeout):
                result = await runCommand(check, command, timeout: timeout, model: model, version: version, commit: commit, deploy: deploy,
                                          modelDigest: modelDigest, runID: runID, say: say)
            case .analysis(let analysis):
                result = await analyse(check.name, analysis, model: model, version: version, environment: deploy.environment, say: say)
            case .comparison(let comparison):
                result = await ComparisonCheck(name: check.name, comparison: comparison, model: model, version: version, environment: deploy.environment,
                                               prometheusURL: environment["PROMETHEUS_URL"]).run(against: baselines)
            }
            say("\(deploy.environment): check \(check.name) \(result.verdict.rawValue): \(result.detail)")
            if let runID, let store { keep(result, of: check, runID: runID, environment: deploy.environment, store: store, say: say) }
            results.append(result)
            if result.verdict != .passed { break }
        }
        return results
    }

    /// Keeps an analysis's measurements or a comparison's samples with the version's run, for
    /// its chart and report; the verdict does not depend on it.
    private func keep(_ result: Result, of check: VerifyCheck, runID: Int64, environment: String, store: RunStore, say: @Sendable (String) -> Void) {
        let record: (kind: String, query: String, content: Data)
        do {
            if let series = result.series {
                record = (AnalysisSeries.reportKind(check: check.name), series.query, try JSONEncoder().encode(series))
            } else if let series = result.comparison {
                record = (ComparisonSeries.reportKind(check: check.name), series.query, try JSONEncoder().encode(series))
            } else {
                return
            }
            try store.saveReport(ReportRecord(runId: runID, stage: AnalysisSeries.stage(environment: environment), kind: record.kind, path: record.query,
                                              content: String(decoding: record.content, as: UTF8.self)))
        } catch {
            say("\(environment): the measurements of check \(check.name) were not stored for its chart: \(error)")
        }
    }

    private func runCommand(_ check: VerifyCheck, _ command: StageSpec.Command, timeout: Int, model: String, version: String,
                            commit: GitCommit, deploy: DeploySpec, modelDigest: String?, runID: Int64?, say: @Sendable (String) -> Void) async -> Result {
        let name = check.name
        let folder = "\(stateDirectory)/scratch/verify-\(deploy.environment)-\(version)-\(name)"
        let fm = FileManager.default
        do {
            if fm.fileExists(atPath: folder) { try fm.removeItem(atPath: folder) }
            try fm.createDirectory(atPath: stateDirectory + "/scratch", withIntermediateDirectories: true)
            try commit.checkout(to: folder)
        } catch {
            return Result(check: name, verdict: .failed, detail: "the version's commit could not be checked out for the check: \(error)")
        }
        do {
            if let store, let modelDigest, let runID,
               let output = try store.artifacts(of: runID).first(where: { $0.digest == modelDigest }) {
                try store.artifactStore.restore(output.digest, kind: output.kind, to: output.path, workspace: folder)
            }
        } catch {
            return Result(check: name, verdict: .failed, detail: "the version's model files could not be restored for the check: \(error)")
        }
        defer {
            do { try fm.removeItem(atPath: folder) } catch { say("the check's folder \(folder) was not removed: \(error)") }
        }
        if let pod {
            // The check as a stage of its own: its image (else the runner's), its facts as `env`.
            var stage = StageSpec(name: "verify-\(deploy.environment)-\(name)", location: check.location, command: command, timeoutSeconds: timeout)
            stage.env = Self.variables(model: model, version: version, deploy: deploy).sorted { $0.key < $1.key }.map { KeyValue($0.key, $0.value) }
                + [KeyValue("SLUICE_COMMIT", commit.id)]
            stage.pod.image = check.image
            let outcome = await pod(stage, folder)
            return Result(check: name, verdict: outcome.passed ? .passed : .failed, detail: outcome.detail)
        }
        var variables = environment.filter { StageEnvironment.inherited.contains($0.key) || $0.key.hasPrefix("LC_") }
        variables.merge(Self.variables(model: model, version: version, deploy: deploy)) { _, new in new }
        variables["SLUICE_COMMIT"] = commit.id
        if variables["PATH"] == nil { variables["PATH"] = "/usr/local/bin:/usr/bin:/bin" }
        let spec = ProcessSpec(arguments: ProcessSpec.arguments(for: command), workingDirectory: folder, environment: variables,
                               timeoutSeconds: Double(timeout), masker: SecretMasker(secrets: []))
        let lines = LineTail()
        do {
            let outcome = try await StageProcess.run(spec) { lines.add($0.text) }
            let tail = lines.last(5)
            return Result(check: name, verdict: outcome.succeeded ? .passed : .failed,
                          detail: outcome.summary + (tail.isEmpty ? "" : ": " + tail.joined(separator: " / ")))
        } catch {
            return Result(check: name, verdict: .failed, detail: "\(error)")
        }
    }

    private func analyse(_ name: String, _ analysis: Analysis, model: String, version: String, environment name2: String,
                         say: @Sendable (String) -> Void) async -> Result {
        guard let url = analysis.url ?? environment["PROMETHEUS_URL"], !url.isEmpty else {
            return Result(check: name, verdict: .inconclusive, detail: "no Prometheus to ask: set 'url' on the analysis or PROMETHEUS_URL for Sluice")
        }
        let client = PrometheusClient(url: url)
        let query = analysis.query(model: model, version: version, environment: name2)
        var measurements: [AnalysisJudge.Measurement] = []
        while true {
            let measured = await Offload.run { () -> AnalysisJudge.Measurement in
                do { return AnalysisJudge.Measurement(values: try client.query(query)) } catch {
                    return AnalysisJudge.Measurement(values: [], error: "\(error)")
                }
            }
            measurements.append(measured)
            if let verdict = AnalysisJudge.decide(measurements, analysis) {
                let failures = measurements.filter { AnalysisJudge.verdict(of: $0, analysis) == .failed }.count
                return Result(check: name, verdict: verdict,
                              detail: "\(query): \(AnalysisJudge.describe(measurements, analysis)) (\(measurements.count) of \(analysis.count) measurements, \(failures) failed, limit \(analysis.failureLimit))",
                              series: AnalysisSeries(check: name, environment: name2, query: query, analysis: analysis, measurements: measurements, verdict: verdict))
            }
            do { try await Task.sleep(for: .seconds(analysis.intervalSeconds)) } catch {
                return Result(check: name, verdict: .inconclusive, detail: "stopped after \(measurements.count) measurements (cancelled)")
            }
        }
    }
}

/// The last lines a check printed.
final class LineTail: Sendable {
    private let lines = Mutex<[String]>([])
    func add(_ line: String) { lines.withLock { $0.append(line); if $0.count > 50 { $0.removeFirst() } } }
    func last(_ n: Int) -> [String] { lines.withLock { Array($0.suffix(n)) } }
}
