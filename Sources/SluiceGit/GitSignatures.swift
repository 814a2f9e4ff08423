import CGit2
public import SluiceCore

/// Commit signatures as git stores them (the `gpgsig` header, OpenPGP or SSH), and the commits
/// between two points of history, for verifying what is about to run.
extension GitRepository {
    /// The signature of `commit` and the bytes it signs (the commit without its `gpgsig`
    /// header); nil when the commit is not signed.
    public func signature(of commit: String) throws(GitError) -> CommitSignature? {
        var id = try oid(commit)
        var signature = git_buf(), signed = git_buf()
        defer {
            git_buf_dispose(&signature)
            git_buf_dispose(&signed)
        }
        let code = git_commit_extract_signature(&signature, &signed, pointer, &id, nil)
        if code == GIT_ENOTFOUND.rawValue { return nil }
        if code < 0 { throw GitError.last("read the signature of \(commit)", code: code) }
        return CommitSignature(signature: Self.bytes(signature), signedData: Self.bytes(signed))
    }

    /// The commits reachable from `head` and not from `base` (all of `head`'s history when
    /// `base` is nil), oldest first: what a push brings. At most `limit`.
    public func commits(from base: String?, to head: String, limit: Int = 10_000) throws(GitError) -> [String] {
        var walk: OpaquePointer?
        try check("walk the history of \(head)") { git_revwalk_new(&walk, pointer) }
        defer { git_revwalk_free(walk) }
        git_revwalk_sorting(walk, GIT_SORT_TOPOLOGICAL.rawValue | GIT_SORT_REVERSE.rawValue)
        var h = try oid(head)
        try check("walk from \(head)") { git_revwalk_push(walk, &h) }
        if let base {
            var b = try oid(base)
            try check("hide \(base)") { git_revwalk_hide(walk, &b) }
        }
        var result: [String] = []
        var next = git_oid()
        while result.count < limit, git_revwalk_next(&next, walk) == 0 { result.append(next.hex) }
        return result
    }

    private static func bytes(_ buffer: git_buf) -> [UInt8] {
        guard let p = buffer.ptr, buffer.size > 0 else { return [] }
        return p.withMemoryRebound(to: UInt8.self, capacity: buffer.size) { Array(UnsafeBufferPointer(start: $0, count: buffer.size)) }
    }
}
