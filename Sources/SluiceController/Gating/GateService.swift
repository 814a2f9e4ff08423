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
        /// The version that passed the gate and now goes down `environments:` (see `EnvironmentChain`).
        public var chained: RegisteredVersion?
        /// How far it went in this run.
        public var chain: EnvironmentChain.Progress?
        /// Where the promoted model was deployed (the environment branch), when it was.
        public var deployment: DeployService.Result?
        /// The version put back after a failed rollout.
        public var rolledBackTo: String?
        /// The candidate was signed and its statements recorded on `AttestationRecord.ref`.
        public var attested = false
    }

    public static func modelName(_ spec: PipelineSpec, repositoryKey: String) -> String {
        if let m = spec.gate?.model { return m }
        var name = repositoryKey.split(separator: "/").last.map(String.init) ?? "model"
        if name.hasSuffix(".git") { name.removeLast(4) }
        return name.isEmpty ? "model" : name
    }

    /// Whether a ref may promote: only the production branch (`ProductionBranch`'s rule, with the
    /// controller's `branch` when given).
    public static func isProductionRef(_ ref: String?, branch: String?, spec: GateSpec, repository: GitRepository) -> Bool {
        ProductionBranch.promotes(ref: ref, branch: ProductionBranch.name(configured: branch, gateBranch: spec.branch, defaultBranch: repository.defaultBranch))
    }

    /// The gate reports of `repositoryKey`'s production-branch candidates (promoted or rejected), oldest first.
    public func gatedReports(repositoryKey: String) throws -> [GateReport] {
        try store.reports(kind: ReportRecord.gateKind, repository: repositoryKey).map {
            try JSONDecoder().decode(GateReport.self, from: Data($0.content.utf8))
        }.filter { $0.decision == .promote || $0.decision == .reject }
    }

    /// Gathers the facts, lets `Verdict.decide` decide, then acts: registers a new production-
    /// branch candidate, and promotes it when the verdict says so. Throws when the gate cannot be
    /// evaluated (the caller fails closed).
    /// - Parameters:
    ///   - productionBranch: the branch that promotes (default: `gate.branch`, else the
    ///     repository's default branch).
    ///   - events: makes the verdict's notifications, recorded with the promotion and the report.
    public func evaluate(run: RunRecord, spec: PipelineSpec, work: PipelineRunner.Work, commit: GitCommit,
                         repository: GitRepository, now: Double, productionBranch: String? = nil, events: EventSource? = nil) throws -> Outcome? {
        guard let gateSpec = spec.gate else { return nil }
        let runID = run.id!
        let model = Self.modelName(spec, repositoryKey: work.repositoryKey)
        let reports = try store.reports(of: runID)
        let stages = try store.stages(of: runID)
        let artifacts = try store.artifacts(of: runID)

        // The policy as committed, the candidate's metrics as the run stored them.
        guard let policyBytes = commit.contents(at: gateSpec.policy) else {
            throw LoadError(message: "policy file '\(gateSpec.policy)' is not in commit \(CommitID(commit.id).short)")
        }
        let policy = try PolicyLoader.policy(bytes: policyBytes, file: gateSpec.policy)
        let policyDigest = "sha256:" + ContentHash.sha256Hex(policyBytes)
        let metricReports = reports.filter { $0.kind == "metrics" }
        var candidate = MetricSet()
        for r in metricReports {  // in stage order; a later stage's value wins
            let m = try PolicyLoader.metrics(bytes: Array(r.content.utf8), file: r.path)
            candidate.values.merge(m.values) { _, new in new }
            candidate.slices.merge(m.slices) { _, new in new }
        }

        let promotion = Promotion(store: store, registry: registry, environment: environment)
        let productionState = try promotion.production(model: model)
        let production = productionState.version
        do throws(MetricRange.OutOfRange) {
            try MetricRange.check(policy: policy, candidate: candidate, production: production?.metrics)
        } catch {
            // The run stored the metrics as normalised JSON: name the file and stage, not a line of it.
            guard error.side == "candidate" else { throw error }
            throw PolicyLoader.locate(error, in: metricReports.map { ($0.path, Array($0.content.utf8)) }) { index, _ in
                "\(metricReports[index].path) of stage \(metricReports[index].stage)"
            }
        }
        let evaluated = Gate.evaluate(policy: policy, candidate: candidate,
                                      production: production.map { Gate.Baseline(version: $0.version, metrics: $0.metrics) })
        let dataChecks = try reports.filter { $0.kind == "validation" }.map { r in
            GateReport.DataCheck(stage: r.stage, validation: try JSONDecoder().decode(SluiceCore.ValidationReport.self, from: Data(r.content.utf8)))
        }
        let productionRef = Self.isProductionRef(work.ref, branch: productionBranch, spec: gateSpec, repository: repository)
        let digest = CandidateModel.artifact(spec: spec, in: artifacts)?.digest
        var facts = Verdict.Facts(rulesPassed: evaluated.rows.allSatisfy(\.passed), dataChecksPassed: GateReport.passes([], dataChecks),
                                  hasMetrics: !metricReports.isEmpty, isProductionRef: productionRef)
        if let p = production, let digest, digest == p.artifactDigest, candidate == p.metrics {
            facts.sameAsProduction = "the model is production's version \(p.version) (\(digest.prefix(19))…)"
        } else if productionRef, let digest, let earlier = try gatedReports(repositoryKey: work.repositoryKey).last(where: {
            $0.run != runID && $0.artifacts.first?.digest == digest && $0.metrics.map(\.candidate) == evaluated.rows.map(\.candidate)
                && $0.policyDigest == policyDigest
        }) {
            facts.alreadyGated = "run \(earlier.run) already gated this model (\(digest.prefix(19))…) under this policy: \(earlier.decision.rawValue)"
        }
        if productionRef, let p = production, p.commit != run.commit, try repository.isAncestor(run.commit, of: p.commit) {
            facts.supersededBy = "production already holds version \(p.version) from the newer commit \(CommitID(p.commit).short)"
        }

        // A new production-branch candidate is registered whatever the verdict: the registry
        // lists every gated candidate (registering is not promoting). A model the registry holds
        // already (gated again under a changed policy) keeps its version.
        var version: RegisteredVersion?
        var registryNotes: [String] = []
        var signed: ModelSigning.Signed?
        if productionRef, facts.hasMetrics, facts.sameAsProduction == nil, facts.alreadyGated == nil,
           let known = try CandidateModel.registered(model: model, digest: digest, metrics: candidate, store: store, registry: registry) {
            version = known
            registryNotes = ["the model is registered already as version \(known.version) (the same artifact and metrics); gated again under the policy as committed now"]
        } else if productionRef, facts.hasMetrics, facts.sameAsProduction == nil, facts.alreadyGated == nil {
            let params = GitCommitContent(commit).parameterValues(spec.stages.flatMap(\.params))
            var c = try CandidateModel.candidate(model: model, run: run, metrics: candidate, metricsJSON: metricReports.last!.content,
                                                 datasetVersions: work.datasetVersions, parameters: params.values, spec: spec,
                                                 artifacts: artifacts, store: store, environment: environment)
            if let signing = spec.gate?.signing {
                // Signed before it is registered (MLflow keeps the bundle beside the files); a key that cannot sign fails the gate closed.
                signed = try ModelSigning.sign(c.modelFiles, signing: signing, environment: environment)
                c.signature = signed?.bundle
            }
            let registration = try registry.register(c)
            version = registration.version
            registryNotes = params.problems + registration.notes
            if let signed {
                try store.saveReport(ReportRecord(runId: runID, stage: "gate", kind: ReportRecord.modelSignatureKind, path: "model.sig", content: signed.bundle))
            }
        }

        // What deploying this candidate would change; a candidate whose manifests do not render,
        // or that the cluster refuses, cannot be promoted.
        var deployObjects: [ManifestObject]?
        var deployFacts: DeployFacts?
        var deployChanges: [String]?
        var notes = evaluated.notes + registryNotes
        if let deploy = spec.deploy {
            let rendered = version ?? RegisteredVersion(model: model, version: "candidate", commit: run.commit, runID: runID,
                                                        metrics: candidate, datasetVersions: work.datasetVersions, artifactDigest: digest)
            let renderedFacts = DeployService.facts(for: rendered, deploy: deploy, registryKind: registry.kind, signature: signed?.bundle)
            do {
                let objects = try ManifestRenderer.render(commit: commit, deploy: deploy, facts: renderedFacts, environment: environment)
                deployObjects = objects
                deployFacts = renderedFacts
                do {
                    deployChanges = try Environments(registry: registry, store: store, environment: environment)
                        .write(objects, deploy: deploy, facts: renderedFacts, repository: repository, action: "Deploy", dryRun: true).changes
                } catch let error as KubeError where error.refusesObject {
                    facts.clusterRefusal = "\(error)"
                } catch {
                    notes.append("what deploying would change could not be computed: \(error)")
                }
            } catch {
                facts.renderError = "\(error)"
            }
        }

        // Where each environment stands, for reviewers of a merge request as for the production branch.
        if spec.environments.count > 1 {
            let running = try spec.environments.map { env in
                "\(env.name) runs \(try store.deployedVersion(model: model, environment: env.name).map { "version \($0.version)" } ?? "no version yet")"
            }
            notes.append("environments now: " + running.joined(separator: ", "))
        }
        let decision = Verdict.decide(facts)
        let order = spec.stages.map(\.name)
        var report = GateReport(
            model: model, repository: work.repositoryKey, ref: work.ref, commit: run.commit, run: runID, policy: gateSpec.policy,
            decision: decision.verdict, passed: decision.passed,
            production: production.map { GateReport.Production(version: $0.version, commit: $0.commit, promotedAt: 0) },
            metrics: evaluated.rows, dataChecks: dataChecks,
            stages: order.compactMap { name in stages.first { $0.stage == name } }.map { s in
                GateReport.StageTiming(stage: s.stage, status: s.status.rawValue, seconds: s.startedAt.flatMap { start in s.finishedAt.map { $0 - start } })
            },
            datasetVersions: work.datasetVersions, parameters: work.parameters,
            artifacts: artifacts.map { GateReport.Artifact(stage: $0.stage, path: $0.path, digest: $0.digest, size: $0.size) },
            deployChanges: deployChanges, notes: notes + decision.reasons.filter { !Verdict.summaryReasons.contains($0) })
        report.policyDigest = policyDigest
        report.overriding = decision.overriding
        if let p = production, let last = try store.promotions(model: model).last, last.version == p.version {
            report.production?.promotedAt = last.createdAt
        }
        if let signed, let version {
            report.notes.append(try ModelSigning.attest(signed, report: report, run: run, version: version.version,
                                                        inputs: ProvenanceInputs.datasets(spec, versions: work.datasetVersions, commit: commit, repository: run.repository)
                                                            + ProvenanceInputs.images(stages),
                                                        store: store, repository: repository, environment: environment))
        }

        var promoted = false
        var chained: RegisteredVersion?
        /// The verdict's notifications (the same ids however often they are recorded).
        let announce = { (report: GateReport, promoted: Bool) -> [NotificationEvent] in
            events?.gate(run: runID, commit: run.commit, model: model, report: report, version: version?.version, promoted: promoted,
                         entered: chained == nil ? nil : spec.environments.first?.name, error: nil, time: now) ?? []
        }
        if decision.verdict == .promote, let version {
            if let first = spec.preProduction.first {
                // With environments, production is the end of the chain, not the gate's to set.
                chained = version
                report.notes.append("version \(version.version) enters the environments at \(first.name)")
            } else {
                promoted = try promote(version, expected: productionState.logVersion, runID: runID, repository: repository, report: &report, now: now,
                                       events: announce(report, true))
            }
        }
        if let version {
            do {
                try registry.record(verdict: promoted ? "promote" : report.decision.rawValue, of: version)
            } catch {
                report.notes.append("the verdict was not recorded in the \(registry.kind) registry: \(error)")
            }
        }
        let admitted = chained.map { version in
            EnvironmentStepRecord(model: model, version: version.version, environment: spec.environments[0].name, state: .admitted,
                                  detail: "the gate passed", actor: "sluice run \(runID)", runId: version.runID, createdAt: now)
        }
        try store.recordGate(try ReportRecord.gate(report, runID: runID), verdict: report.decision, admitted: admitted, events: announce(report, promoted))
        var outcome = Outcome(report: report, markdown: GateReportMarkdown.render(report), version: version?.version, promoted: promoted,
                              deployObjects: promoted ? deployObjects : nil, deployFacts: deployFacts)
        outcome.chained = chained
        outcome.attested = signed != nil
        return outcome
    }

    /// Promotes through `Promotion.move` unless another promotion moved production first or this
    /// replica's leadership term is over. The verdict stays what `Verdict.decide` said: a lost
    /// race or a refused term is its own event on the run (`ReportRecord.promotionEventKind`) and
    /// a note, and nothing outside the log was changed.
    private func promote(_ candidate: RegisteredVersion, expected: String?, runID: Int64, repository: GitRepository,
                         report: inout GateReport, now: Double, events: [NotificationEvent]) throws -> Bool {
        var promotion = Promotion(store: store, registry: registry, environment: environment)
        promotion.clock = { now }
        let event: String
        switch try promotion.move(to: candidate, action: .promote, expected: expected, actor: "sluice run \(runID)",
                                  reason: "gate passed under \(report.policy)", runID: runID, note: nil, repository: repository, events: events) {
        case .lost(let current):
            event = "not promoted: production of \(candidate.model) moved to version \(current ?? "none") while this run was being gated; "
                + "the verdict stands and nothing was changed (a new commit or `sluice promote \(runID)` can promote it)"
        case .fenced(let refusal):
            event = "not promoted: \(refusal); the verdict stands and nothing was changed"
        case .moved(_, let problems):
            report.notes.append("promoted as version \(candidate.version)" + (expected.map { " (was \($0))" } ?? ""))
            report.notes += problems
            return true
        }
        report.notes.append(event)
        try store.saveReport(ReportRecord(runId: runID, stage: "gate", kind: ReportRecord.promotionEventKind, path: "", content: event))
        return false
    }

    public func save(_ report: GateReport, runID: Int64) throws {
        try store.saveReport(try ReportRecord.gate(report, runID: runID))
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
