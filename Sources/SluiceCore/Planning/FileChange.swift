/// One path changed between two commits.
public struct FileChange: Hashable, Sendable, Codable {
    public enum Kind: Hashable, Sendable, Codable {
        case added, modified, deleted
        case renamed(from: String)
    }

    public var path: String
    public var kind: Kind

    public init(path: String, kind: Kind) {
        self.path = path
        self.kind = kind
    }

    /// The paths a trigger should see: a rename touches both its old and new place.
    public var touchedPaths: [String] {
        if case .renamed(let from) = kind { return [from, path] }
        return [path]
    }
}
