import FoundationEssentials
public import SluiceCore
public import SluiceGit
public import SluiceRegistry
public import SluiceStore
import SluiceKube

/// After a run: evaluates the gate, stores the report, and on the production branch
/// registers the candidate and promotes it when it passes. Merge requests and other
/// branches get a report only.
public struct GateService: Sendable {
    public let store: RunStore
    public let registry: any ModelRegistry
    /// Sluice's environment (for the kubernetes target's kubeconfig).
    public let environment: [String: String]

    public init(store: RunStore, registry: any ModelRegistry, environment: [String: String] = [:]) {
        self.store = store
        self.registry = registry
        self.environment = environment
    }

    public struct Outcome: Sendable {
        public var report: GateReport
        public var markdown: String
        /// The version registered for the candidate (production branch only).
        public var version: String?
        /// Promoted, or why not.
        public var promoted: Bool
        /// The rendered objects to deploy and their facts, when promoted.
        public var deployObjects: [ManifestObject]?
        public var deployFacts: DeployFacts?
        /// Where the promoted model was deployed (the environment branch), when it was.
        public var deployment: DeployService.Result?
        /// The version put back after a failed rollout.
        public var rolledBackTo: String?
    }

    public static func modelName(_ spec: PipelineSpec, repositoryKey: String) -> String {
        if let m = spec.gate?.model { return m }
        var name = repositoryKey.split(separator: "/").last.map(String.init) ?? "model"
        if name.hasSuffix(".git") { name.removeLast(4) }
        return name.isEmpty ? "model" : name
    }

    /// Whether a ref may promote: only the production branch (`gate.branch`, default the
    /// repository's default branch).
    public static func isProductionRef(_ ref: String?, spec: GateSpec, repository: GitRepository) -> Bool {
        guard let ref, let branch = spec.branch ?? repository.defaultBranch else { return false }
        return ref == "refs/heads/" + branch
    }

    public func evaluate(run: RunRecord, spec: PipelineSpec, work: PipelineRunner.Work, commit: GitCommit,
                         repository: GitRepository, now: Double) throws -> Outcome? {
        guard let gateSpec = spec.gate else { return nil }
        let runID = run.id!
        let model = Self.modelName(spec, repositoryKey: work.repositoryKey)
        let reports = try store.reports(of: runID)
        let stages = try store.stages(of: runID)
        let artifacts = try store.artifacts(of: runID)
        var notes: [String] = []

        // The policy as committed, the candidate's metrics as the run stored them.
        guard let policyBytes = commit.contents(at: gateSpec.policy) else {
            throw LoadError(message: "policy file '\(gateSpec.policy)' is not in commit \(commit.id.prefix(12))")
        }
        let policy = try PolicyLoader.policy(bytes: policyBytes, file: gateSpec.policy)
        let metricReports = reports.filter { $0.kind == "metrics" }
        var candidate = MetricSet()
        for r in metricReports {  // in stage order; a later stage's value wins
            let m = try PolicyLoader.metrics(bytes: Array(r.content.utf8), file: r.path)
            candidate.values.merge(m.values) { _, new in new }
            candidate.slices.merge(m.slices) { _, new in new }
        }
        if metricReports.isEmpty { notes.append("no stage wrote metrics: declare 'metrics:' on the evaluation stage") }

        let production = try registry.production(model: model)
        let evaluated = Gate.evaluate(policy: policy, candidate: candidate,
                                      production: production.map { Gate.Baseline(version: $0.version, metrics: $0.metrics) })
        notes += evaluated.notes
        let dataChecks = try reports.filter { $0.kind == "validation" }.map { r in
            GateReport.DataCheck(stage: r.stage, validation: try JSONDecoder().decode(SluiceCore.ValidationReport.self, from: Data(r.content.utf8)))
        }
        let passed = GateReport.passes(evaluated.rows, dataChecks) && !metricReports.isEmpty
        let productionRef = Self.isProductionRef(work.ref, spec: gateSpec, repository: repository)
        if !productionRef { notes.append("\(work.ref ?? "this ref") is not the production branch: report only, nothing is promoted") }
        let order = spec.stages.map(\.name)
        var report = GateReport(
            model: model, repository: work.repositoryKey, ref: work.ref, commit: run.commit, run: runID, policy: gateSpec.policy,
            decision: productionRef ? (passed ? .promote : .reject) : .reportOnly, passed: passed,
            production: production.map { GateReport.Production(version: $0.version, commit: $0.commit, promotedAt: 0) },
            metrics: evaluated.rows, dataChecks: dataChecks,
            stages: order.compactMap { name in stages.first { $0.stage == name } }.map { s in
                GateReport.StageTiming(stage: s.stage, status: s.status.rawValue, seconds: s.startedAt.flatMap { start in s.finishedAt.map { $0 - start } })
            },
            datasetVersions: work.datasetVersions, parameters: work.parameters,
            artifacts: artifacts.map { GateReport.Artifact(stage: $0.stage, path: $0.path, digest: $0.digest, size: $0.size) }, notes: notes)
        if let p = production, let last = try store.promotions(model: model).last, last.version == p.version {
            report.production?.promotedAt = last.createdAt
        }

        let digest = artifacts.first?.digest
        var version: String?
        var promoted = false
        var deployObjects: [ManifestObject]?
        var deployFacts: DeployFacts?
        var previewed = false
        // What deploying this candidate would change (the branch target: the environment branch's
        // files). A candidate whose manifests do not render cannot be promoted.
        func preview(version: String?) {
            previewed = true
            guard let deploy = spec.deploy else { return }
            let objects: [ManifestObject]
            let facts: DeployFacts
            do {
                let candidateVersion = RegisteredVersion(model: model, version: version ?? "candidate", commit: run.commit, runID: runID,
                                                         metrics: candidate, datasetVersions: work.datasetVersions, artifactDigest: digest)
                facts = DeployService.facts(for: candidateVersion, deploy: deploy, registryKind: registry.kind)
                objects = try ManifestRenderer.render(commit: commit, deploy: deploy, facts: facts)
            } catch {
                report.passed = false
                if report.decision == .promote { report.decision = .reject }
                report.notes.append("the manifests do not render, so this candidate cannot be deployed: \(error)")
                return
            }
            deployObjects = objects
            deployFacts = facts
            do {
                report.deployChanges = try Environments(registry: registry, store: store, environment: environment)
                    .write(objects, deploy: deploy, facts: facts, repository: repository, action: "Deploy", dryRun: true).changes
            } catch let error as KubeError where (400..<500).contains(error.status) {
                // The cluster refuses these manifests (unknown kind, invalid field, no permission): deploying would fail.
                report.passed = false
                if report.decision == .promote { report.decision = .reject }
                report.notes.append("the cluster refuses these manifests, so this candidate cannot be deployed: \(error)")
            } catch {
                report.notes.append("what deploying would change could not be computed: \(error)")
            }
        }
        // Nothing retrained (a docs-only commit): the candidate is production's own model.
        if productionRef, let p = production, let digest, digest == p.artifactDigest, candidate == p.metrics {
            report.decision = .reportOnly
            report.notes.append("no new candidate: the model is production's version \(p.version) (\(digest.prefix(19))…); nothing to register or promote")
        } else if productionRef, !metricReports.isEmpty {
            let metricsJSON = metricReports.last!.content
            let registered = try registry.register(Candidate(
                model: model, commit: run.commit, runID: runID, metrics: candidate, metricsJSON: metricsJSON,
                datasetVersions: work.datasetVersions, parameters: work.parameters,
                artifactDigest: digest))
            version = registered.version
            preview(version: registered.version)
            if passed, report.passed {
                promoted = try promote(registered, production: production, runID: runID, repository: repository, report: &report, now: now)
            }
        }
        if !previewed { preview(version: nil) }
        try save(report, runID: runID)
        return Outcome(report: report, markdown: GateReportMarkdown.render(report), version: version, promoted: promoted,
                       deployObjects: promoted ? deployObjects : nil, deployFacts: deployFacts)
    }

    /// Promotes unless a newer commit is already in production (then the candidate is
    /// superseded) or another run promoted in between (checked atomically).
    private func promote(_ candidate: RegisteredVersion, production: RegisteredVersion?, runID: Int64,
                         repository: GitRepository, report: inout GateReport, now: Double) throws -> Bool {
        if let p = production, p.commit != candidate.commit, (try? repository.isAncestor(candidate.commit, of: p.commit)) == true {
            report.decision = .reject
            report.notes.append("superseded: production already holds version \(p.version) from the newer commit \(p.commit.prefix(12))")
            return false
        }
        try registry.setProduction(model: candidate.model, version: candidate.version)
        let entry = PromotionRecord(model: candidate.model, version: candidate.version, action: .promote, commit: candidate.commit,
                                    runId: runID, previousVersion: production?.version, actor: "sluice run \(runID)",
                                    reason: "gate passed under \(report.policy)", createdAt: now)
        guard try store.appendPromotion(entry, expectedVersion: production?.version) else {
            report.decision = .reject
            report.notes.append("superseded: another run promoted while this one was being gated")
            return false
        }
        report.notes.append("promoted as version \(candidate.version)" + (production.map { " (was \($0.version))" } ?? ""))
        return true
    }

    /// The kind a gate report is stored under with its run.
    public static let reportKind = "gate"

    public func save(_ report: GateReport, runID: Int64) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let json = String(decoding: try encoder.encode(report), as: UTF8.self)
        try store.saveReport(ReportRecord(runId: runID, stage: "gate", kind: Self.reportKind, path: "gate-report.json", content: json))
    }

    /// The gate report among a run's stored reports: nil when the run has none, an error when
    /// the stored one cannot be read.
    public static func report(in reports: [ReportRecord]) throws -> GateReport? {
        guard let stored = reports.first(where: { $0.kind == reportKind }) else { return nil }
        return try JSONDecoder().decode(GateReport.self, from: Data(stored.content.utf8))
    }

    /// The note Sluice attaches to a commit for a gate verdict.
    public static func note(for report: GateReport, version: String?) -> String {
        var lines = ["sluice gate: \(report.decision.rawValue) — model \(report.model)" + (version.map { " version \($0)" } ?? "") + ", run \(report.run)"]
        for row in report.metrics {
            let name = row.slice.map { "\(row.metric) [\($0)]" } ?? row.metric
            lines.append("  \(row.passed ? "ok  " : "FAIL") \(name) = \(row.candidate.map { String($0) } ?? "missing")"
                         + (row.production.map { " (production \($0))" } ?? "") + ": \(row.reason)")
        }
        return lines.joined(separator: "\n")
    }
}
