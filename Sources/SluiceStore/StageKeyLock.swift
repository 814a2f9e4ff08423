import FoundationEssentials
import SluiceCore
#if canImport(Glibc)
import Glibc
#endif

/// One execution per stage input at a time: an exclusive `flock` on
/// `<state>/locks/stage-<hash>.lock` for a repository's cache key, held while a stage with that
/// key executes and stores its result. Three `sluice run`s of one commit started together (or a
/// run and the controller) then execute each stage once: the others wait, find the stored
/// result and restore it, as DVC's repository lock makes a second `dvc repro` wait. The kernel
/// drops the lock when the process dies, so a crash never leaves a stage locked.
public final class StageKeyLock: Sendable {
    let fd: Int32

    static func path(_ stateDirectory: String, repository: String, cacheKey: String) -> String {
        "\(stateDirectory)/locks/stage-\(ContentHash.sha256Hex(Array((repository + "\n" + cacheKey).utf8)).prefix(24)).lock"
    }

    private init(fd: Int32) { self.fd = fd }

    deinit { close(fd) }

    /// Takes the lock at once, or nil when another process (or run) holds it.
    public static func tryAcquire(stateDirectory: String, repository: String, cacheKey: String) throws(RunStore.StoreError) -> StageKeyLock? {
        try LockFile.exclusive(path(stateDirectory, repository: repository, cacheKey: cacheKey)).map(StageKeyLock.init(fd:))
    }

    /// Waits for the lock, polling so that cancelling the task (a superseded run, Ctrl-C) stops
    /// the wait. `waiting` is told once when another holder makes it wait.
    public static func acquire(stateDirectory: String, repository: String, cacheKey: String,
                               waiting: () -> Void) async throws -> StageKeyLock {
        var told = false
        while true {
            if let lock = try tryAcquire(stateDirectory: stateDirectory, repository: repository, cacheKey: cacheKey) { return lock }
            if !told { waiting(); told = true }
            try await Task.sleep(for: .milliseconds(100))
        }
    }
}
