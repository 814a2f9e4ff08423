import CGit2
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

extension GitRepository {
    /// Lock files of `refs` (and of `packed-refs`) older than `staleAfter` seconds. git and
    /// libgit2 hold such a file only while they write a ref and remove it when done, so an old
    /// one was left by a writer that was killed (`kill -9` in the middle of a deploy) and
    /// would make every later write of that ref fail. They are removed; the paths are returned
    /// for the caller to report. A younger lock is left alone: a writer may be at work.
    public func removeStaleLocks(forRefs refs: [String], staleAfter: Double = 60) -> [String] {
        guard let gitDirectory = git_repository_path(pointer).map({ String(cString: $0) }) else { return [] }
        let base = gitDirectory.hasSuffix("/") ? gitDirectory : gitDirectory + "/"
        let now = Date().timeIntervalSince1970
        var removed: [String] = []
        for name in refs.map({ $0 + ".lock" }) + ["packed-refs.lock"] {
            let path = base + name
            var info = stat()
            guard lstat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { continue }
            guard now - Double(info.st_mtim.tv_sec) >= staleAfter else { continue }
            if unlink(path) == 0 { removed.append(path) }
        }
        return removed
    }
}
