/// What is at a repository-relative path. The spec decoder asks this to check that
/// referenced files exist, without doing I/O itself: the CLI answers from the working
/// folder, the planner from a commit's git tree.
public protocol PathLookup: Sendable {
    func kind(of path: String) -> PathKind?
}

public enum PathKind: String, Sendable, Hashable {
    case file, directory
    /// A symbolic link: never read, since it can point outside the repository.
    case symlink = "symbolic link"
}

/// Answers from a fixed table; used by tests and as "check nothing" when empty.
public struct StaticPathLookup: PathLookup {
    public var entries: [String: PathKind]
    public init(_ entries: [String: PathKind] = [:]) { self.entries = entries }
    public func kind(of path: String) -> PathKind? { entries[path] }
}
