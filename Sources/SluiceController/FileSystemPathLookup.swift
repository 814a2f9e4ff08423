import FoundationEssentials
public import SluiceCore
#if canImport(Glibc)
import Glibc
#endif

/// Answers `PathLookup` questions from a folder on disk (a working copy).
public struct FileSystemPathLookup: PathLookup {
    public let root: String
    public init(root: String) { self.root = root }

    public func kind(of path: String) -> PathKind? {
        var isDirectory = false
        let full = path.isEmpty ? root : root + "/" + path
        // lstat, not stat: a link is reported as a link (never read), whatever it points to.
        var info = stat()
        if !path.isEmpty, lstat(full, &info) == 0, (info.st_mode & S_IFMT) == S_IFLNK { return .symlink }
        guard FileManager.default.fileExists(atPath: full, isDirectory: &isDirectory) else { return nil }
        return isDirectory ? .directory : .file
    }
}
