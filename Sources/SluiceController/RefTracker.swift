import FoundationEssentials
public import SluiceGit
import Synchronization

/// Remembers, per repository and ref, the last commit Sluice processed, in a small
/// JSON file under the state directory (written atomically: a crash leaves the old
/// or the new file, never half of one). Compares it with the ref's head to find new
/// work and force-pushes.
public final class RefTracker: @unchecked Sendable {
    // @unchecked: one tracker is used by one task at a time (one queue per repository).
    public let file: String
    private var processed: [String: String]

    /// What happened to a tracked ref since it was last processed.
    public struct Update: Sendable, Hashable {
        public enum Kind: Sendable, Hashable {
            /// Never processed before.
            case new
            /// The new head descends from the last processed commit.
            case advanced
            /// History was rewritten (force-push): plan against the merge base, if any.
            case rewritten(mergeBase: String?)
        }

        public var ref: String
        public var previous: String?
        public var head: String
        public var kind: Kind

        /// The commit to compare the head against.
        public var base: String? {
            switch kind {
            case .new: return nil
            case .advanced: return previous
            case .rewritten(let mergeBase): return mergeBase
            }
        }
    }

    public init(stateDirectory: String, repository location: String) throws {
        let folder = stateDirectory + "/refs"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        file = folder + "/" + RepositorySource.stateKey(for: location) + ".json"
        processed = Self.read(file)
    }

    /// The file as last written; an unreadable one counts as empty (every ref is planned again).
    private static func read(_ file: String) -> [String: String] {
        guard let data = FileManager.default.contents(atPath: file) else { return [:] }
        return (try? JSONDecoder().decode([String: String].self, from: data)) ?? [:]
    }

    /// Serialises records: a repository's production run and a merge request's run finish at
    /// the same moment, each with its own tracker, and each must add its ref to the file the
    /// other just wrote (a lost record makes the next poll run that head again).
    private static let writes = Mutex(())

    public func lastProcessed(_ ref: String) -> String? { processed[ref] }

    /// Records that `commit` on `ref` was processed (after its results are stored).
    public func record(_ ref: String, commit: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let data: Data = try Self.writes.withLock { _ in
            var current = Self.read(file)
            current[ref] = commit
            let data = try encoder.encode(current)
            try data.write(to: URL(fileURLWithPath: file), options: .atomic)
            return data
        }
        processed = try JSONDecoder().decode([String: String].self, from: data)
    }

    /// Refs whose head differs from the last processed commit, oldest ref name first.
    public func updates(in repository: GitRepository, refs: [String]) throws(GitError) -> [Update] {
        var result: [Update] = []
        for ref in refs.sorted() {
            guard let head = repository.resolveReference(ref) else { continue }
            guard let previous = processed[ref] else {
                result.append(Update(ref: ref, previous: nil, head: head, kind: .new))
                continue
            }
            if previous == head { continue }
            let known = (try? repository.commit(previous)) != nil
            if known, try repository.isAncestor(previous, of: head) {
                result.append(Update(ref: ref, previous: previous, head: head, kind: .advanced))
            } else {
                let base = known ? try repository.mergeBase(previous, head) : nil
                result.append(Update(ref: ref, previous: previous, head: head, kind: .rewritten(mergeBase: base)))
            }
        }
        return result
    }

    /// The refs to watch: the given branches (default: the repository's default
    /// branch) and, when enabled, every merge-request head.
    public static func trackedRefs(in repository: GitRepository, branches: [String]?, mergeRequests: Bool) throws(GitError) -> [String] {
        var refs = (branches ?? [repository.headBranch ?? "main"]).map { $0.hasPrefix("refs/") ? $0 : "refs/heads/" + $0 }
        if mergeRequests {
            refs += try repository.references(matching: "refs/pull/*/head")
            refs += try repository.references(matching: "refs/merge-requests/*/head")
        }
        return refs
    }
}
