import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// Proof that this process owns a run: an exclusive `flock` on
/// `<state>/locks/run-<id>.lock`. The kernel drops it when the process dies, even by
/// `kill -9`, which is how the next start tells an interrupted run from a live one.
public final class RunLock: Sendable {
    let fd: Int32
    public let runID: Int64

    static func path(_ stateDirectory: String, _ id: Int64) -> String { "\(stateDirectory)/locks/run-\(id).lock" }

    public init(stateDirectory: String, runID: Int64) throws(RunStore.StoreError) {
        self.runID = runID
        // Throw before `fd` is stored: a half-made lock must not run deinit and close it twice.
        guard let descriptor = try LockFile.exclusive(Self.path(stateDirectory, runID)) else {
            throw .init(description: "run \(runID) is already being run by another process")
        }
        fd = descriptor
    }

    deinit { close(fd) }

    /// True while some process (this one included) holds the run's lock.
    public static func isHeld(stateDirectory: String, runID: Int64) -> Bool {
        let fd = open(path(stateDirectory, runID), O_RDWR | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        if flock(fd, LOCK_EX | LOCK_NB) == 0 {
            flock(fd, LOCK_UN)
            return false
        }
        return true
    }
}

/// The state folder's lock files (`<state>/locks/`): an exclusive `flock` taken at once or not
/// at all, which the kernel drops when the process dies.
enum LockFile {
    /// The open descriptor holding the lock on `path` (creating the file and its folder), or nil
    /// when another holder has it.
    static func exclusive(_ path: String) throws(RunStore.StoreError) -> Int32? {
        let folder = String(path[..<(path.lastIndex(of: "/") ?? path.endIndex)])
        do { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) } catch {
            throw .init(description: "cannot create \(folder): \(error)")
        }
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .init(description: "cannot create lock file \(path): \(String(cString: strerror(errno)))") }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            return nil
        }
        return fd
    }
}
