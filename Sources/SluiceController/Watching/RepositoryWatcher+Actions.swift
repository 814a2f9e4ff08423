import FoundationEssentials
import SluiceCore
import SluiceGit
import SluiceRunner
public import SluiceServer
import SluiceStore

/// The operator's actions on a watched repository (the HTTP API's re-run, promote and
/// rollback; the server checks the bearer token and leadership before calling them).
extension RepositoryWatcher: WatchedRepository {
    /// Queues a new run of a finished, unsuccessful run's commit and starts it (cached stages
    /// are reused; the ref's processed commit is not changed). Returns the new run.
    public func rerun(_ runID: Int64, actor: String) async throws(ActionError) -> RunRecord {
        let old = try ownRun(runID)
        guard old.status.isFinished else { throw .conflict("run \(runID) is still \(old.status.rawValue)") }
        guard old.status != .succeeded else {
            throw .conflict("run \(runID) succeeded; its results are cached, so a re-run would change nothing (to put its model in production, promote it)")
        }
        let (repo, service) = (repository, service)
        let prepared: (RunRecord, PipelineRunner.Work, GitRepository)
        do {
            prepared = try await Offload.run { () throws -> (RunRecord, PipelineRunner.Work, GitRepository) in
                let git = try Self.localRepository(repo, service: service)
                guard case .run(let record, var work) = try service.prepare(repository: git, repositoryKey: repo.url, revision: old.commit, since: nil,
                                                                             ref: old.ref, trigger: "re-run of run \(runID) by \(actor)", productionBranch: repo.branch) else {
                    throw ActionError.failed("commit \(CommitID(old.commit).short) no longer has a usable sluice.yaml")
                }
                work.apply(repo)
                return (record, work, git)
            }
        } catch let e as ActionError {
            throw e
        } catch {
            throw .failed("cannot re-run run \(runID): \(error)")
        }
        let (record, work, git) = prepared
        health.runsStarted += 1
        log.info("re-run of run \(runID) by \(actor) queued as run \(record.id!)")
        manualRuns[record.id!] = Task {
            do {
                _ = try await self.execute(record, work: work, git: git, ref: old.ref ?? "")
            } catch {
                self.log.error("re-run \(record.id!) failed: \(error)", metadata: ["run": .stringConvertible(record.id!)])
            }
            self.finishedManualRun(record.id!)
        }
        return record
    }

    private func finishedManualRun(_ id: Int64) { manualRuns[id] = nil }

    /// Puts run `runID`'s candidate in production (whatever its gate said), deploys it, and
    /// pushes the note and environment branch when the repository is remote.
    public func promote(_ runID: Int64, actor: String, reason: String) async throws(ActionError) -> PromotionSummary {
        let run = try ownRun(runID)
        guard run.status == .succeeded else { throw .conflict("run \(runID) \(run.status.rawValue); only a succeeded run has a candidate to promote") }
        return try await change { git, service, environment in
            let spec = try CommittedSpec.load(repository: git, commit: run.commit)
            let model = try spec.map { GateService.modelName($0, repositoryKey: run.repository) } ?? Promotion.modelName(repository: git, repositoryKey: run.repository)
            let registry = try RunService.registry(for: spec?.gate, store: service.store, environment: environment)
            return try Promotion(store: service.store, registry: registry, environment: environment)
                .promote(runID: runID, model: model, actor: actor, reason: reason, repository: git)
        }
    }

    /// Puts the previous production version of `model` back (or `version`), and redeploys it.
    public func rollback(model: String, to version: String?, actor: String, reason: String) async throws(ActionError) -> PromotionSummary {
        try await change { git, service, environment in
            // The registry the production version's commit names.
            let current = try service.store.promotions(model: model).last
            let spec = try current.flatMap { try CommittedSpec.load(repository: git, commit: $0.commit) }
            let registry = try RunService.registry(for: spec?.gate, store: service.store, environment: environment)
            return try Promotion(store: service.store, registry: registry, environment: environment)
                .rollback(model: model, to: version, actor: actor, reason: reason, repository: git)
        }
    }

    /// Whether this repository produced the model's production versions (the log's runs say).
    public func produces(model: String) -> Bool {
        guard let last = try? service.store.promotions(model: model).last, let run = last.runId,
              let record = try? service.store.run(run) else { return false }
        return record.repository == repository.url
    }

    private func ownRun(_ runID: Int64) throws(ActionError) -> RunRecord {
        guard let run = try? service.store.run(runID), run.repository == repository.url else {
            throw .notFound("repository '\(repository.name)' has no run \(runID)")
        }
        return run
    }

    /// Runs a promotion-log change off the actor's executor, then publishes its refs.
    private func change(_ body: @escaping @Sendable (GitRepository, RunService, [String: String]) throws -> Promotion.Change)
        async throws(ActionError) -> PromotionSummary {
        let (repo, service, environment) = (repository, service, environment)
        do {
            return try await Offload.run { () throws -> PromotionSummary in
                let git = try Self.localRepository(repo, service: service)
                let result = try body(git, service, environment)
                if RepositorySource.isRemote(repo.url) { try Publisher(url: repo.url, environment: environment).push(result.refs, from: git) }
                return result.summary
            }
        } catch {
            throw .failed("\(error)")
        }
    }
}
