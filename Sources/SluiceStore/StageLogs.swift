public import FoundationEssentials
public import SluiceCore

/// Stage logs, wherever they are: the file the replica that ran the stage wrote, or the copy
/// archived in the artifact store when the stage finished (a bucket, when configured, holds
/// it for every replica), so a replica that died does not take its logs along.
extension RunStore {
    /// `stage`'s log; nil when it has none (it never started), or none this process can read.
    public func stageLog(_ stage: StageResultRecord) throws(StoreError) -> Data? {
        if let path = stage.logPath, let data = FileManager.default.contents(atPath: path) { return data }
        guard let digest = stage.logDigest else { return nil }
        do {
            return try artifactStore.contents(digest, shownAs: "the log of stage '\(stage.stage)' of run \(stage.runId)")
        } catch {
            throw StoreError(description: "\(error)")
        }
    }
}
