import FoundationEssentials
import SluiceCore

extension PipelineRunner {
    /// Keeps the finished stage's log in the artifact store, where every replica reads it. A log
    /// that cannot be archived stays this state folder's only (the stage's message says so); the
    /// stage's result does not depend on it.
    func archiveLog(_ r: inout StageResultRecord) {
        guard let path = r.logPath, FileManager.default.fileExists(atPath: path) else { return }
        do {
            r.logDigest = try artifacts.storeFile(at: path, shownAs: "the log of stage '\(r.stage)'")
        } catch {
            r.message = (r.message.map { $0 + "; " } ?? "") + "the log was not archived (only this state folder has it): \(error)"
        }
    }
}
