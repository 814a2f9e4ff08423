import CGit2
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// Ref lock files left by killed writers, and how Sluice tells them from a live write.
///
/// git and libgit2 hold `<ref>.lock` only while they write a ref and remove it when done, so
/// one left behind was made by a writer that was killed (`kill -9` in the middle of a deploy)
/// and would make every later write of that ref fail. Every write Sluice makes to a
/// repository (commits on its environment branches and `refs/sluice/promotions`, notes, fetches
/// into a mirror) holds an exclusive `flock` on `<git dir>/sluice-writer.flock`, which the kernel
/// drops when the process dies: while nobody holds it, no Sluice process is writing, and a lock
/// file of a ref only Sluice writes is abandoned however young it is.
extension GitRepository {
    var gitDirectory: String? {
        git_repository_path(pointer).map { path in
            let text = String(cString: path)
            return text.hasSuffix("/") ? text : text + "/"
        }
    }

    /// Runs `body` holding the writer lock (waiting for another Sluice writer to finish).
    @discardableResult
    func withWriterLock<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
        guard let directory = gitDirectory else { return try body() }
        let fd = open(directory + "sluice-writer.flock", O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        // A repository Sluice cannot create a file in cannot take its writes either: let the
        // write itself report that.
        guard fd >= 0 else { return try body() }
        defer { close(fd) }
        while flock(fd, LOCK_EX) != 0, errno == EINTR {}
        return try body()
    }

    /// Removes the lock files of `refs` (refs only Sluice writes) when no Sluice writer is at
    /// work, and any of them (and `packed-refs.lock`, which other git commands share) older than
    /// `staleAfter` seconds otherwise. Returns the removed paths for the caller to report. A
    /// young lock while a Sluice writer is at work is left alone.
    public func removeAbandonedLocks(forRefs refs: [String], staleAfter: Double = 60) -> [String] {
        guard let base = gitDirectory else { return [] }
        let writerFD = open(base + "sluice-writer.flock", O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        let noWriter = writerFD >= 0 && flock(writerFD, LOCK_EX | LOCK_NB) == 0
        defer { if writerFD >= 0 { close(writerFD) } }
        let now = Date().timeIntervalSince1970
        var removed: [String] = []
        for (name, ownedBySluice) in refs.map({ ($0 + ".lock", true) }) + [("packed-refs.lock", false)] {
            let path = base + name
            var info = stat()
            guard lstat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { continue }
            guard (ownedBySluice && noWriter) || now - Double(info.st_mtim.tv_sec) >= staleAfter else { continue }
            if unlink(path) == 0 { removed.append(path) }
        }
        return removed
    }
}
