/// Which runs may reuse which cached stage results.
///
/// A cache entry is content-addressed, but the content a stage produced depends on the code
/// that ran, and a merge request's code is untrusted: its stage can print one thing for its own
/// ref and another for `main` (cache poisoning). So each run has a scope, derived from its ref,
/// and may restore only entries of its own scope and of the production branch. Production
/// restores only production: what a merge request stored never reaches it, whatever the key.
/// (GitHub Actions scopes caches the same way: a default-branch run never restores a
/// pull request's cache.)
public enum CacheScope: Hashable, Sendable {
    /// Runs of the production branch.
    case production
    /// Runs of one merge request (`refs/pull/7/head`, `refs/merge-requests/7/head`).
    case mergeRequest(Int)
    /// Runs of another ref (a branch run by hand), or of a commit with no ref (`detached`).
    case other(String)

    /// The scope of a run of `ref`, given the production branch's name.
    public static func of(ref: String?, productionBranch: String?) -> CacheScope {
        guard let ref else { return .other("detached") }
        if let number = MergeRequestRef.number(of: ref) { return .mergeRequest(number) }
        if let productionBranch, ref == "refs/heads/" + productionBranch || ref == productionBranch { return .production }
        return .other(ref)
    }

    /// The form stored with each run: `production`, `merge-request/7`, `ref/refs/heads/x`.
    public var storedName: String {
        switch self {
        case .production: return "production"
        case .mergeRequest(let n): return "merge-request/\(n)"
        case .other(let ref): return "ref/\(ref)"
        }
    }

    /// The stored scopes whose entries a run of this scope may restore.
    public var readable: [String] {
        self == .production ? [storedName] : [CacheScope.production.storedName, storedName]
    }

    public var isMergeRequest: Bool {
        if case .mergeRequest = self { return true }
        return false
    }

    /// Words for a log line: "the production branch", "merge request 7", "refs/heads/x".
    public static func describe(storedName: String) -> String {
        if storedName == "production" { return "the production branch" }
        if storedName.hasPrefix("merge-request/") { return "merge request \(storedName.dropFirst("merge-request/".count))" }
        if storedName.hasPrefix("ref/") { return String(storedName.dropFirst(4)) }
        return storedName
    }
}

/// The merge-request number a forge's head ref names.
public enum MergeRequestRef {
    /// `refs/pull/7/head` (GitHub, Gitea) or `refs/merge-requests/7/head` (GitLab) -> 7; else nil.
    public static func number(of ref: String?) -> Int? {
        guard let ref else { return nil }
        let parts = ref.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == "refs", parts[1] == "pull" || parts[1] == "merge-requests", parts[3] == "head",
              parts[2].count <= 9, parts[2].allSatisfy({ $0.isASCII && $0.isNumber }), let n = Int(parts[2]), n > 0 else { return nil }
        return n
    }
}
