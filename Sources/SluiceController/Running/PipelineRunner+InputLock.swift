import SluiceCore
import SluiceStore

extension PipelineRunner {
    /// The lock on a stage's inputs (its cache key) for as long as it runs, so that runs of the
    /// same inputs at once (three `sluice run`s of one commit, a run and the controller) execute
    /// it once: the others wait here, then find its stored result in the cache. nil for a stage
    /// that does not use the cache (`cache: false`, a schedule or metric forcing it) or is skipped.
    func inputLock(for planned: PlannedStage, useCache: Bool, work: Work, say: @Sendable (String) -> Void) async throws -> HeldLock? {
        guard useCache, planned.decision != .skip else { return nil }
        return try await store.lock(.stageInputs(repository: work.repositoryKey, cacheKey: planned.cacheKey)) {
            say("waiting: another run is executing \(planned.name) with the same inputs (key \(planned.cacheKey.prefix(16))); its result will be reused")
        }
    }
}
