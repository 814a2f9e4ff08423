import CGit2
import SluiceCore

/// One git repository opened with libgit2 (owned: freed in deinit).
/// libgit2 objects of one repository are not thread-safe: use an instance from one
/// task at a time.
public final class GitRepository: @unchecked Sendable {
    // @unchecked: callers use a repository from one task at a time (see above).
    let pointer: OpaquePointer
    public let path: String

    /// Opens the repository containing `path` (a working tree or a bare repository).
    public init(path: String) throws(GitError) {
        _ = LibGit2.initialized
        var repo: OpaquePointer?
        try check("open repository at '\(path)'") { git_repository_open_ext(&repo, path, 0, nil) }
        pointer = repo!
        self.path = path
    }

    init(owning pointer: OpaquePointer, path: String) {
        self.pointer = pointer
        self.path = path
    }

    deinit { git_repository_free(pointer) }

    /// The working tree's folder (without a trailing slash); nil for a bare repository.
    public var workingDirectory: String? {
        guard let dir = git_repository_workdir(pointer) else { return nil }
        let path = String(cString: dir)
        return path.hasSuffix("/") && path.count > 1 ? String(path.dropLast()) : path
    }

    /// No commits at all: HEAD is unborn and no branch exists. (libgit2's own
    /// `git_repository_is_empty` only recognises the configured default branch name.)
    public var isEmpty: Bool {
        guard git_repository_head_unborn(pointer) == 1 else { return false }
        return (try? references(matching: "refs/heads/**"))?.isEmpty ?? true
    }
    public var isShallow: Bool { git_repository_is_shallow(pointer) == 1 }
    public var isBare: Bool { git_repository_is_bare(pointer) == 1 }

    /// Resolves any revision (`HEAD`, a branch, a tag, `abc123`, `main~2`) to a commit.
    public func commit(_ revision: String) throws(GitError) -> GitCommit {
        if isEmpty {
            throw GitError(operation: "resolve '\(revision)'", message: "the repository has no commits yet", code: GIT_ENOTFOUND.rawValue)
        }
        var object: OpaquePointer?
        do throws(GitError) {
            try check("resolve revision '\(revision)'") { git_revparse_single(&object, pointer, revision) }
        } catch {
            throw GitError(operation: "resolve revision '\(revision)'",
                           message: "no such revision in \(path) (\(error.message))", code: error.code)
        }
        defer { git_object_free(object) }
        var peeled: OpaquePointer?
        try check("'\(revision)' is not a commit") { git_object_peel(&peeled, object, GIT_OBJECT_COMMIT) }
        return GitCommit(owning: peeled!, repository: self)
    }

    /// Full names of references matching a glob, e.g. `refs/heads/*` or `refs/pull/*/head`.
    public func references(matching glob: String) throws(GitError) -> [String] {
        var names = git_strarray()
        try check("list references") { git_reference_list(&names, pointer) }
        defer { git_strarray_dispose(&names) }
        let pattern = try? Glob(glob)
        return (0..<names.count).compactMap { i in
            let name = String(cString: names.strings[i]!)
            return pattern?.matches(name) == true ? name : nil
        }.sorted()
    }

    /// The commit id a reference points to, or nil if it does not exist.
    public func resolveReference(_ name: String) -> String? {
        var oid = git_oid()
        guard git_reference_name_to_id(&oid, pointer, name) == 0 else { return nil }
        return oid.hex
    }

    /// The branch HEAD names (the default branch of a bare mirror), e.g. `main`.
    public var headBranch: String? {
        var ref: OpaquePointer?
        guard git_reference_lookup(&ref, pointer, "HEAD") == 0 else { return nil }
        defer { git_reference_free(ref) }
        guard let target = git_reference_symbolic_target(ref) else { return nil }
        let name = String(cString: target)
        return name.hasPrefix("refs/heads/") ? String(name.dropFirst("refs/heads/".count)) : name
    }

    /// The repository's production branch as git sees it: a mirror's HEAD (the remote's
    /// default branch); in a working clone, what `origin/HEAD` points at, else `main`, else
    /// `master`, else the checked-out branch. (A clone's HEAD is whatever is checked out,
    /// which must not decide what promotes.)
    public var defaultBranch: String? {
        if isBare { return headBranch }
        var ref: OpaquePointer?
        if git_reference_lookup(&ref, pointer, "refs/remotes/origin/HEAD") == 0 {
            defer { git_reference_free(ref) }
            if let target = git_reference_symbolic_target(ref) {
                let name = String(cString: target)
                if name.hasPrefix("refs/remotes/origin/") { return String(name.dropFirst("refs/remotes/origin/".count)) }
            }
        }
        for candidate in ["main", "master"] where resolveReference("refs/heads/" + candidate) != nil { return candidate }
        return headBranch
    }

    /// Whether `ancestor` is reachable from `commit` (or is the same commit).
    public func isAncestor(_ ancestor: String, of commit: String) throws(GitError) -> Bool {
        if ancestor == commit { return true }
        var a = try oid(ancestor), c = try oid(commit)
        return try check("compare history") { git_graph_descendant_of(pointer, &c, &a) } == 1
    }

    /// The best common ancestor, or nil when the histories are unrelated.
    public func mergeBase(_ a: String, _ b: String) throws(GitError) -> String? {
        var x = try oid(a), y = try oid(b), out = git_oid()
        let code = git_merge_base(&out, pointer, &x, &y)
        if code == GIT_ENOTFOUND.rawValue { return nil }
        if code < 0 { throw GitError.last("find merge base of \(a) and \(b)", code: code) }
        return out.hex
    }

    func oid(_ hex: String) throws(GitError) -> git_oid {
        var out = git_oid()
        try check("parse object id '\(hex)'") { git_oid_fromstrp(&out, hex) }
        return out
    }
}

extension GitRepository {
    /// Deletes a reference (e.g. `refs/heads/sluice/preview/3`); one that does not exist is fine.
    public func deleteReference(_ name: String) throws(GitError) {
        try withWriterLock { () throws(GitError) in
            let code = git_reference_remove(pointer, name)
            if code < 0, code != GIT_ENOTFOUND.rawValue { throw GitError.last("delete \(name)", code: code) }
        }
    }
}
