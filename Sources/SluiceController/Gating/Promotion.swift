import FoundationEssentials
import SluiceCore
public import SluiceGit
public import SluiceRegistry
public import SluiceStore

/// Manual promotions and rollbacks: each is appended to the promotion log (never
/// rewritten) with who did it and why, and noted on the commit in git.
public struct Promotion: Sendable {
    public let store: RunStore
    public let registry: any ModelRegistry
    public let environment: [String: String]

    /// A log entry, and what happened to the environment.
    public struct Change: Sendable {
        public var entry: PromotionRecord
        public var deployment: DeployService.Result?
        /// Why the environment was not updated (no deploy section, a template error, …).
        public var deployProblem: String?

        /// The refs this change wrote, to push back to a remote: the notes, and the environment
        /// branch when it got a commit.
        public var refs: [String] {
            [GitRepository.sluiceNotes, PromotionHistory.ref] + (deployment?.commit != nil ? ["refs/heads/" + deployment!.branch] : [])
        }
    }

    func redeploy(_ version: RegisteredVersion, repository: GitRepository, action: String, entry: PromotionRecord) -> Change {
        do {
            let result = try Environments(registry: registry, store: store, environment: environment)
                .deploy(version, repository: repository, action: action, dryRun: false)
            return Change(entry: entry, deployment: result,
                          deployProblem: result?.healthy == false ? "the rollout did not become healthy: \(result?.failure ?? "")" : nil)
        } catch {
            return Change(entry: entry, deployment: nil, deployProblem: "\(error)")
        }
    }

    public init(store: RunStore, registry: any ModelRegistry, environment: [String: String] = [:]) {
        self.store = store
        self.registry = registry
        self.environment = environment
    }

    /// The model a repository's `sluice.yaml` (at HEAD) names, else its folder name.
    public static func modelName(repository: GitRepository, repositoryKey: String) -> String {
        if let commit = try? repository.commit("HEAD"), let bytes = commit.contents(at: CommitPlanner.specFile),
           let spec = SpecLoader.load(bytes: bytes, file: CommitPlanner.specFile, paths: nil).spec {
            return GateService.modelName(spec, repositoryKey: repositoryKey)
        }
        return GateService.modelName(PipelineSpec(file: "", stages: []), repositoryKey: repositoryKey)
    }

    /// The `sluice.yaml` of `commit`, when it has a valid one.
    static func spec(repository: GitRepository, commit: String) throws -> PipelineSpec? {
        guard let bytes = try repository.commit(commit).contents(at: CommitPlanner.specFile) else { return nil }
        return SpecLoader.load(bytes: bytes, file: CommitPlanner.specFile, paths: nil).spec
    }

    /// Promotes the candidate of run `runID` (registering it if the gate did not), whatever
    /// its gate said: an operator's decision, recorded as such.
    public func promote(runID: Int64, model: String, actor: String, reason: String, repository: GitRepository) throws -> Change {
        guard let run = try store.run(runID) else { throw LoadError(message: "no run \(runID); see `sluice runs`") }
        guard let metrics = try store.reports(of: runID).last(where: { $0.kind == "metrics" }) else {
            throw LoadError(message: "run \(runID) stored no metrics: there is no candidate to promote")
        }
        let current = try registry.production(model: model)
        let version: RegisteredVersion
        if let existing = try store.modelVersions(model: model).first(where: { $0.runId == runID }),
           let v = try registry.version(model: model, version: existing.version) {
            version = v
        } else {
            let set = try PolicyLoader.metrics(bytes: Array(metrics.content.utf8), file: metrics.path)
            let gate = try GateService.report(in: try store.reports(of: runID))
            let spec = try Self.spec(repository: repository, commit: run.commit)
            let artifacts = try store.artifacts(of: runID)
            var c = Candidate(model: model, commit: run.commit, runID: runID, metrics: set, metricsJSON: metrics.content,
                              datasetVersions: gate?.datasetVersions ?? [:], parameters: gate?.parameters ?? [:],
                              artifactDigest: CandidateModel.artifact(spec: spec, in: artifacts)?.digest)
            c.modelFiles = try CandidateModel.files(spec: spec, artifacts: artifacts, store: store)
            c.repository = run.repository
            c.ref = run.ref
            c.runURL = RunPageLink(environment: environment).url(runID)
            c.experiment = spec?.gate?.experiment
            version = try registry.register(c).version
        }
        return try promote(version, actor: actor, reason: reason, repository: repository)
    }

    /// Puts a registered version into production (the registry, the log, the record in git, a
    /// note on its commit) and deploys it there.
    public func promote(_ version: RegisteredVersion, actor: String, reason: String, repository: GitRepository) throws -> Change {
        let model = version.model
        let current = try registry.production(model: model)
        if current?.version == version.version { throw LoadError(message: "version \(version.version) of \(model) is already in production") }
        try registry.setProduction(model: model, version: version.version)
        let entry = PromotionRecord(model: model, version: version.version, action: .promote, commit: version.commit, runId: version.runID,
                                    previousVersion: current?.version, actor: actor, reason: reason, createdAt: Date().timeIntervalSince1970)
        guard try store.appendPromotion(entry, expectedVersion: current?.version) else {
            throw LoadError(message: "production changed while promoting; run the command again")
        }
        ControllerMetrics.promotion(model: model, action: "promote")
        try PromotionHistory.append(PromotionHistory.Entry(entry, version: version), to: repository)
        try repository.appendNote("sluice promote — model \(model) version \(version.version) by \(actor): \(reason)", to: version.commit)
        return redeploy(version, repository: repository, action: "Deploy", entry: entry)
    }

    /// Puts the previous production version back (or `version`), recording why.
    public func rollback(model: String, to version: String?, actor: String, reason: String, repository: GitRepository) throws -> Change {
        let log = try store.promotions(model: model)
        guard let current = log.last else { throw LoadError(message: "\(model) has never been promoted: nothing to roll back") }
        let target: String
        if let version {
            target = version
        } else {
            // The version that was in production before the current one took over.
            guard let previous = log.last(where: { $0.version != current.version && $0.id! < firstEntry(of: current.version, in: log) }) else {
                throw LoadError(message: "\(model) has had only version \(current.version) in production: nothing earlier to roll back to")
            }
            target = previous.version
        }
        guard target != current.version else { throw LoadError(message: "version \(target) of \(model) is already in production") }
        guard let registered = try registry.version(model: model, version: target) else {
            throw LoadError(message: "\(model) has no version \(target)")
        }
        try registry.setProduction(model: model, version: target)
        let entry = PromotionRecord(model: model, version: target, action: .rollback, commit: registered.commit, runId: registered.runID,
                                    previousVersion: current.version, actor: actor, reason: reason, createdAt: Date().timeIntervalSince1970)
        guard try store.appendPromotion(entry, expectedVersion: current.version) else {
            throw LoadError(message: "production changed while rolling back; run the command again")
        }
        ControllerMetrics.promotion(model: model, action: "rollback")
        try PromotionHistory.append(PromotionHistory.Entry(entry, version: registered), to: repository)
        try repository.appendNote("sluice rollback — model \(model) back to version \(target) (from \(current.version)) by \(actor): \(reason)",
                                  to: registered.commit)
        return redeploy(registered, repository: repository, action: "Roll back to", entry: entry)
    }

    /// The id of the entry that started the current stretch of `version` in production.
    private func firstEntry(of version: String, in log: [PromotionRecord]) -> Int64 {
        var id = log.last!.id!
        for entry in log.reversed() {
            guard entry.version == version else { break }
            id = entry.id!
        }
        return id
    }
}
