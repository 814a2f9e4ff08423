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

extension GitCommitContent {
    /// The values the stages' `params` name, flattened (`train.C` → `1.0`), for the model
    /// registry; with several params files each name starts with its file (`params.yaml:train.C`).
    /// Files that cannot be read are said in `problems`.
    public func parameterValues(_ refs: [ParamRef]) -> (values: [String: String], problems: [String]) {
        var values: [String: String] = [:]
        var problems: [String] = []
        let files = Set(refs.map(\.file))
        for ref in refs {
            guard let bytes = commit.contents(at: ref.file) else {
                problems.append("params file '\(ref.file)' is not in commit \(CommitID(commit.id).short)")
                continue
            }
            var node: Node
            do throws(YAMLError) {
                guard let document = try YAMLParser.parseDocument(bytes, file: ref.file) else { continue }  // an empty file has no values
                node = document
            } catch {
                problems.append("params file '\(ref.file)' cannot be read: \(error.diagnostic)")
                continue
            }
            var prefix = ""
            for key in (ref.keyPath ?? "").split(separator: ".") {
                guard let next = node[String(key)] else {
                    problems.append("params file '\(ref.file)' has no '\(ref.keyPath ?? "")'")
                    node = Node(.scalar(Scalar("missing")), at: node.location)
                    break
                }
                node = next
                prefix += (prefix.isEmpty ? "" : ".") + key
            }
            let flat = ParamValues.flatten(node, prefix: prefix)
            if flat.truncated { problems.append("params file '\(ref.file)' is too deep or too large: only its first \(flat.values.count) values are recorded") }
            for (name, value) in flat.values { values[files.count > 1 ? ref.file + ":" + name : name] = value }
        }
        return (values, problems)
    }
}
