import FoundationEssentials
public import SluiceCore

/// Answers `PathLookup` questions from a folder on disk (a working copy).
public struct FileSystemPathLookup: PathLookup {
    public let root: String
    public init(root: String) { self.root = root }

    public func kind(of path: String) -> PathKind? {
        var isDirectory = false
        let full = path.isEmpty ? root : root + "/" + path
        if !path.isEmpty, (try? FileManager.default.destinationOfSymbolicLink(atPath: full)) != nil { return .symlink }
        guard FileManager.default.fileExists(atPath: full, isDirectory: &isDirectory) else { return nil }
        return isDirectory ? .directory : .file
    }
}
