import FoundationEssentials
public import SluiceCore
public import SluiceGit
import SluiceRunner
public import SluiceStore

/// Plans, queues and runs commits against the run store: the part of `sluice run`
/// (and later the controller loop) that is not argument parsing.
public struct RunService: Sendable {
    public let stateDirectory: String
    public let store: RunStore
    public let runner: PipelineRunner

    public init(stateDirectory: String, options: PipelineRunner.Options) throws(RunStore.StoreError) {
        self.stateDirectory = stateDirectory
        store = try RunStore(stateDirectory: stateDirectory)
        runner = PipelineRunner(stateDirectory: stateDirectory, store: store, options: options)
    }

    /// On start: marks runs whose controller died as interrupted, kills the stage
    /// processes they left behind, and queues a retry of each.
    public func recover() throws(RunStore.StoreError) -> [RunStore.Interrupted] {
        let recovered = try store.recoverInterrupted(isOwned: { RunLock.isHeld(stateDirectory: stateDirectory, runID: $0) },
                                                     now: PipelineRunner.now())
        for r in recovered { LeftoverProcesses.kill(workspace: runner.workspace(of: r.run.id!)) }
        return recovered
    }

    public enum Prepared: Sendable {
        /// The run to execute (new, or a queued retry of an interrupted run of the same commit).
        case run(RunRecord, PipelineRunner.Work)
        /// Nothing to run: the commit has no usable spec.
        case noSpec(CommitPlanner.Outcome)
    }

    /// Plans `revision` and queues a run for it, or picks up a queued retry of the same commit.
    public func prepare(repository: GitRepository, repositoryKey: String, revision: String, since: String?, ref: String?,
                        trigger: String) throws -> Prepared {
        let known = try store.knownCacheKeys()
        let outcome = try CommitPlanner(repository: repository).plan(revision: revision, since: since, knownCacheKeys: known)
        guard let plan = outcome.plan, let spec = outcome.spec else { return .noSpec(outcome) }
        let work = PipelineRunner.Work(repositoryKey: repositoryKey, spec: spec, plan: plan, ref: ref,
                                       datasetVersions: outcome.datasetVersions, parameters: outcome.parameters)
        if let retry = try store.queuedRuns(repository: repositoryKey).first(where: { $0.commit == plan.commit }) {
            return .run(retry, work)
        }
        return .run(try runner.enqueue(work, trigger: trigger, now: PipelineRunner.now()), work)
    }
}
