public import SluiceCore
public import SluiceGit
import SluiceYAML

/// Answers the planner's questions from a git commit's tree.
public struct GitCommitContent: CommitContent {
    public let commit: GitCommit
    public init(_ commit: GitCommit) { self.commit = commit }

    public var commitID: String { commit.id }
    public var rootTreeID: String { commit.treeID }
    public func objectID(at path: String) -> String? { commit.objectID(at: path) }
    public func files(under folder: String) -> [(path: String, id: String)] { commit.files(under: folder) }

    /// The whole file's blob id, or the canonical JSON of the value at `keyPath`.
    public func parameter(_ ref: ParamRef) -> String? {
        guard let keyPath = ref.keyPath else { return commit.objectID(at: ref.file) }
        guard let bytes = commit.contents(at: ref.file),
              var node = try? YAMLParser.parseDocument(bytes, file: ref.file) else { return nil }
        for key in keyPath.split(separator: ".") {
            guard let next = node[String(key)] else { return nil }
            node = next
        }
        return NodeJSON.render(node)
    }
}
