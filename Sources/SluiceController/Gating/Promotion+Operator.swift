import FoundationEssentials
import SluiceCore
public import SluiceGit
public import SluiceRegistry
public import SluiceServer
import SluiceStore

/// The operator's promotions and rollbacks (`sluice promote` / `rollback`, the web UI, the API,
/// and the environment chain acting for them): each goes through `Promotion.move`, is noted on
/// the commit with who did it and why, and redeploys the environment.
extension Promotion {
    /// A log entry, and what happened to the environment.
    public struct Change: Sendable {
        public var entry: PromotionRecord
        public var deployment: DeployService.Result?
        /// Why the environment was not updated (no deploy section, a template error, …).
        public var deployProblem: String?
        /// What outside the log is not in step yet (the registry's marker, the record in git).
        public var problems: [String] = []

        /// The refs this change wrote, to push back to a remote: the notes, and the environment
        /// branch when it got a commit.
        public var refs: [String] {
            [GitRepository.sluiceNotes, PromotionHistory.ref] + (deployment.flatMap { $0.commit == nil ? nil : ["refs/heads/" + $0.branch] } ?? [])
        }

        /// What the HTTP API answers about it.
        public var summary: PromotionSummary {
            PromotionSummary(entry: entry, deployedTo: deployment?.branch, healthy: deployment?.healthy, deployProblem: deployProblem, problems: problems)
        }
    }

    func redeploy(_ version: RegisteredVersion, repository: GitRepository, action: String, entry: PromotionRecord, problems: [String]) -> Change {
        do {
            let result = try Environments(registry: registry, store: store, environment: environment)
                .deploy(version, repository: repository, action: action, dryRun: false)
            return Change(entry: entry, deployment: result,
                          deployProblem: result?.healthy == false ? "the rollout did not become healthy: \(result?.failure ?? "")" : nil, problems: problems)
        } catch {
            return Change(entry: entry, deployment: nil, deployProblem: "\(error)", problems: problems)
        }
    }

    /// The model a repository's `sluice.yaml` (at HEAD) names, else its folder name (no HEAD
    /// yet, no spec, or an invalid one). A commit git cannot read is an error, not a guess.
    public static func modelName(repository: GitRepository, repositoryKey: String) throws -> String {
        let spec = try repository.resolveReference("HEAD").flatMap { try CommittedSpec.load(repository: repository, commit: $0) }
        return GateService.modelName(spec ?? PipelineSpec(file: "", stages: []), repositoryKey: repositoryKey)
    }

    /// Promotes the candidate of run `runID` (registering it if the gate did not), whatever
    /// its gate said: an operator's decision, recorded as such.
    public func promote(runID: Int64, model: String, actor: String, reason: String, repository: GitRepository) throws -> Change {
        guard let run = try store.run(runID) else { throw LoadError(message: "no run \(runID); see `sluice runs`") }
        let reports = try store.reports(of: runID)
        guard let metrics = reports.last(where: { $0.kind == "metrics" }) else {
            throw LoadError(message: "run \(runID) stored no metrics: there is no candidate to promote")
        }
        let candidateMetrics = try PolicyLoader.metrics(bytes: Array(metrics.content.utf8), file: metrics.path)
        let spec = try CommittedSpec.load(repository: repository, commit: run.commit)
        let artifacts = try store.artifacts(of: runID)
        let version: RegisteredVersion
        if let existing = try store.modelVersions(model: model).first(where: { $0.runId == runID }),
           let v = try registry.version(model: model, version: existing.version) {
            version = v
        } else if let known = try CandidateModel.registered(model: model, digest: CandidateModel.artifact(spec: spec, in: artifacts)?.digest,
                                                            metrics: candidateMetrics, store: store, registry: registry) {
            // The same model from another run (a report-only re-run of it): promote that version.
            version = known
        } else {
            let gate = try ReportRecord.gateReport(in: reports)
            let candidate = try CandidateModel.candidate(
                model: model, run: run, metrics: candidateMetrics, metricsJSON: metrics.content, datasetVersions: gate?.datasetVersions ?? [:],
                parameters: gate?.parameters ?? [:], spec: spec, artifacts: artifacts, store: store, environment: environment)
            version = try registry.register(candidate).version
        }
        return try promote(version, actor: actor, reason: reason, repository: repository)
    }

    /// Puts a registered version into production and deploys it there.
    public func promote(_ version: RegisteredVersion, actor: String, reason: String, repository: GitRepository) throws -> Change {
        let model = version.model
        let current = try store.productionVersion(model: model)
        if current == version.version { throw LoadError(message: "version \(version.version) of \(model) is already in production") }
        let note = "sluice promote — model \(model) version \(version.version) by \(actor): \(reason)"
        switch try move(to: version, action: .promote, expected: current, actor: actor, reason: reason, runID: nil, note: note, repository: repository) {
        case .lost(let now):
            throw LoadError(message: "production of \(model) changed to version \(now ?? "none") while promoting; nothing was changed, run the command again")
        case .fenced(let refusal):
            throw LoadError(message: refusal + "; nothing was changed")
        case .moved(let entry, let problems):
            return redeploy(version, repository: repository, action: "Deploy", entry: entry, problems: problems)
        }
    }

    /// Puts the previous production version back (or `version`), recording why.
    public func rollback(model: String, to version: String?, actor: String, reason: String, repository: GitRepository) throws -> Change {
        let log = try store.promotions(model: model)
        guard let current = log.last else { throw LoadError(message: "\(model) has never been promoted: nothing to roll back") }
        let target = try version ?? Self.previousVersion(in: log)
        guard target != current.version else { throw LoadError(message: "version \(target) of \(model) is already in production") }
        guard let registered = try registry.version(model: model, version: target) else {
            throw LoadError(message: "\(model) has no version \(target)")
        }
        let note = "sluice rollback — model \(model) back to version \(target) (from \(current.version)) by \(actor): \(reason)"
        switch try move(to: registered, action: .rollback, expected: current.version, actor: actor, reason: reason, runID: nil, note: note,
                        repository: repository) {
        case .lost(let now):
            throw LoadError(message: "production of \(model) changed to version \(now ?? "none") while rolling back; nothing was changed, run the command again")
        case .fenced(let refusal):
            throw LoadError(message: refusal + "; nothing was changed")
        case .moved(let entry, let problems):
            return redeploy(registered, repository: repository, action: "Roll back to", entry: entry, problems: problems)
        }
    }

    /// The version that was in production before the current one's stretch began.
    static func previousVersion(in log: [PromotionRecord]) throws -> String {
        guard let current = log.last else { throw LoadError(message: "nothing to roll back") }
        let stretch = log.reversed().prefix { $0.version == current.version }
        guard let previous = log.dropLast(stretch.count).last(where: { $0.version != current.version }) else {
            throw LoadError(message: "\(current.model) has had only version \(current.version) in production: nothing earlier to roll back to")
        }
        return previous.version
    }
}
