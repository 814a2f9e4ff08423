import FoundationEssentials
public import SluiceGit
public import SluiceStore
import SluiceCore

/// Remembers, per repository and ref, the last commit Sluice processed, in the run store (so a
/// replica taking over from another on the same database knows what it already ran). Compares
/// it with the ref's head to find new work and force-pushes.
public final class RefTracker: @unchecked Sendable {
    // @unchecked: one tracker is used by one task at a time (one queue per repository).
    private let store: RunStore?
    private let repository: String
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

    /// The processed refs of `location` in `store`; nil: no store yet, so nothing was processed.
    public init(store: RunStore?, repository location: String) throws {
        self.store = store
        repository = location
        guard let store else {
            processed = [:]
            return
        }
        try LegacyProcessedRefs.move(into: store, repository: location)
        processed = try store.processedRefs(repository: location)
    }

    public func lastProcessed(_ ref: String) -> String? { processed[ref] }

    /// Records that `commit` on `ref` was processed (after its results are stored).
    public func record(_ ref: String, commit: String) throws {
        guard let store else { throw RunStore.StoreError(description: "no run store to record \(ref) at \(CommitID(commit).short) in") }
        processed = try store.recordProcessed(repository: repository, ref: ref, commit: commit, at: WallClock.now())
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
