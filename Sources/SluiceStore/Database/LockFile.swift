import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// The state folder's lock files (`<state>/locks/`), the locks of a SQLite run store: an
/// exclusive `flock` taken at once or not at all, which the kernel drops when the process dies.
enum LockFile {
    static func path(_ stateDirectory: String, _ name: LockName) -> String { "\(stateDirectory)/locks/\(name.fileName)" }

    static func tryLock(_ name: LockName, stateDirectory: String) throws -> HeldLock? {
        try exclusive(path(stateDirectory, name)).map { fd in HeldLock(name) { close(fd) } }
    }

    /// True while some process (this one included) holds the lock.
    static func isLocked(_ name: LockName, stateDirectory: String) -> Bool {
        let fd = open(path(stateDirectory, name), O_RDWR | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        if flock(fd, LOCK_EX | LOCK_NB) == 0 {
            flock(fd, LOCK_UN)
            return false
        }
        return true
    }

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
