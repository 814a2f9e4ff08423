import CGit2
public import SluiceCore

/// A commit and its tree (owned; freed in deinit). Answers questions about the
/// files *in this commit* without a checkout.
public final class GitCommit: @unchecked Sendable {
    // @unchecked: used from one task at a time, like its repository.
    let pointer: OpaquePointer
    let tree: OpaquePointer
    public let repository: GitRepository

    init(owning pointer: OpaquePointer, repository: GitRepository) {
        self.pointer = pointer
        self.repository = repository
        var t: OpaquePointer?
        git_commit_tree(&t, pointer)
        tree = t!
    }

    deinit {
        git_tree_free(tree)
        git_commit_free(pointer)
    }

    public var id: String { git_commit_id(pointer).pointee.hex }
    public var treeID: String { git_tree_id(tree).pointee.hex }
    public var summary: String { git_commit_summary(pointer).map { String(cString: $0) } ?? "" }
    /// The committer's time, in seconds since 1970.
    public var time: Int64 { Int64(git_commit_time(pointer)) }

    public var parentIDs: [String] {
        (0..<git_commit_parentcount(pointer)).compactMap { git_commit_parent_id(pointer, $0)?.pointee.hex }
    }

    /// The object id of a file or folder at `path`, or nil when absent. For the
    /// repository root pass "".
    public func objectID(at path: String) -> String? {
        if path.isEmpty || path == "." { return treeID }
        var entry: OpaquePointer?
        guard git_tree_entry_bypath(&entry, tree, RepositoryPath.normalized(path)) == 0 else { return nil }
        defer { git_tree_entry_free(entry) }
        return git_tree_entry_id(entry).pointee.hex
    }

    public func kind(at path: String) -> PathKind? {
        if path.isEmpty || path == "." { return .directory }
        var entry: OpaquePointer?
        guard git_tree_entry_bypath(&entry, tree, RepositoryPath.normalized(path)) == 0 else { return nil }
        defer { git_tree_entry_free(entry) }
        switch git_tree_entry_type(entry) {
        case GIT_OBJECT_TREE: return .directory
        case GIT_OBJECT_BLOB: return git_tree_entry_filemode(entry) == GIT_FILEMODE_LINK ? .symlink : .file
        default: return nil  // submodules
        }
    }

    /// The bytes of the file at `path`, or nil when it is absent, a folder or a symbolic link
    /// (whose blob is the path it points to, possibly outside the repository).
    public func contents(at path: String) -> [UInt8]? {
        var entry: OpaquePointer?
        guard git_tree_entry_bypath(&entry, tree, RepositoryPath.normalized(path)) == 0 else { return nil }
        defer { git_tree_entry_free(entry) }
        guard git_tree_entry_type(entry) == GIT_OBJECT_BLOB, git_tree_entry_filemode(entry) != GIT_FILEMODE_LINK else { return nil }
        var blob: OpaquePointer?
        guard git_blob_lookup(&blob, repository.pointer, git_tree_entry_id(entry)) == 0 else { return nil }
        defer { git_blob_free(blob) }
        let size = Int(git_blob_rawsize(blob))
        guard size > 0, let raw = git_blob_rawcontent(blob) else { return [] }
        return Array(UnsafeRawBufferPointer(start: raw, count: size))
    }

    /// Every file below `folder` ("" for all), as (path, blob id), in path order.
    public func files(under folder: String) -> [(path: String, id: String)] {
        var result: [(String, String)] = []
        let start: OpaquePointer
        var owned: OpaquePointer?
        if folder.isEmpty {
            start = tree
        } else {
            var entry: OpaquePointer?
            guard git_tree_entry_bypath(&entry, tree, RepositoryPath.normalized(folder)) == 0 else { return [] }
            defer { git_tree_entry_free(entry) }
            if git_tree_entry_type(entry) == GIT_OBJECT_BLOB {
                return [(RepositoryPath.normalized(folder), git_tree_entry_id(entry).pointee.hex)]
            }
            guard git_tree_lookup(&owned, repository.pointer, git_tree_entry_id(entry)) == 0 else { return [] }
            start = owned!
        }
        defer { if let owned { git_tree_free(owned) } }
        walk(start, prefix: folder.isEmpty ? "" : RepositoryPath.normalized(folder) + "/", into: &result)
        return result
    }

    private func walk(_ tree: OpaquePointer, prefix: String, into result: inout [(String, String)]) {
        for i in 0..<git_tree_entrycount(tree) {
            guard let entry = git_tree_entry_byindex(tree, i) else { continue }
            let name = prefix + String(cString: git_tree_entry_name(entry))
            switch git_tree_entry_type(entry) {
            case GIT_OBJECT_BLOB: result.append((name, git_tree_entry_id(entry).pointee.hex))
            case GIT_OBJECT_TREE:
                var sub: OpaquePointer?
                guard git_tree_lookup(&sub, repository.pointer, git_tree_entry_id(entry)) == 0 else { continue }
                walk(sub!, prefix: name + "/", into: &result)
                git_tree_free(sub)
            default: continue
            }
        }
    }

    /// Paths that differ between `base` and this commit. Nil base: every file is new.
    ///
    /// The trees are compared here rather than with `git_diff_tree_to_tree`, because
    /// libgit2 1.5 reads every subtree of both commits even when their ids are equal
    /// (seconds on a 100,000-file repository); this walk descends only into subtrees
    /// whose ids differ. Renames are paired by identical content (what `git mv` makes);
    /// an edited-and-moved file shows as deleted + added, which touches the same paths.
    public func changedPaths(since base: GitCommit?) throws(GitError) -> [FileChange] {
        var added: [(path: String, id: String)] = []
        var deleted: [(path: String, id: String)] = []
        var modified: [String] = []
        try compare(base?.tree, tree, prefix: "", added: &added, deleted: &deleted, modified: &modified)

        var deletedByID: [String: [String]] = [:]
        for d in deleted { deletedByID[d.id, default: []].append(d.path) }
        var changes: [FileChange] = modified.map { FileChange(path: $0, kind: .modified) }
        var renamedFrom = Set<String>()
        for a in added {
            if var sources = deletedByID[a.id], !sources.isEmpty {
                let from = sources.removeFirst()
                deletedByID[a.id] = sources
                renamedFrom.insert(from)
                changes.append(FileChange(path: a.path, kind: .renamed(from: from)))
            } else {
                changes.append(FileChange(path: a.path, kind: .added))
            }
        }
        for d in deleted where !renamedFrom.contains(d.path) { changes.append(FileChange(path: d.path, kind: .deleted)) }
        return changes.sorted { $0.path < $1.path }
    }

    /// Entries of a tree by name: (object id, is a folder).
    private func entries(_ tree: OpaquePointer?) -> [String: (id: git_oid, isTree: Bool)] {
        guard let tree else { return [:] }
        var result: [String: (git_oid, Bool)] = [:]
        for i in 0..<git_tree_entrycount(tree) {
            guard let entry = git_tree_entry_byindex(tree, i) else { continue }
            let type = git_tree_entry_type(entry)
            guard type == GIT_OBJECT_TREE || type == GIT_OBJECT_BLOB else { continue }  // skip submodules
            result[String(cString: git_tree_entry_name(entry))] = (git_tree_entry_id(entry).pointee, type == GIT_OBJECT_TREE)
        }
        return result
    }

    private func compare(_ old: OpaquePointer?, _ new: OpaquePointer?, prefix: String,
                         added: inout [(path: String, id: String)], deleted: inout [(path: String, id: String)],
                         modified: inout [String]) throws(GitError) {
        let before = entries(old), after = entries(new)
        for name in Set(before.keys).union(after.keys).sorted() {
            let path = prefix + name
            let o = before[name], n = after[name]
            if var oid = o?.id, var nid = n?.id, o?.isTree == n?.isTree, git_oid_equal(&oid, &nid) == 1 { continue }
            var oldTree: OpaquePointer?, newTree: OpaquePointer?
            if let o, o.isTree { oldTree = try lookupTree(o.id) }
            if let n, n.isTree { newTree = try lookupTree(n.id) }
            defer {
                if let oldTree { git_tree_free(oldTree) }
                if let newTree { git_tree_free(newTree) }
            }
            if oldTree != nil || newTree != nil {
                try compare(oldTree, newTree, prefix: path + "/", added: &added, deleted: &deleted, modified: &modified)
            }
            switch (o, n) {
            case let (o?, n?) where !o.isTree && !n.isTree: modified.append(path)
            case let (o?, _) where !o.isTree: deleted.append((path, o.id.hex))
            default: break
            }
            if let n, !n.isTree, o == nil || o!.isTree { added.append((path, n.id.hex)) }
        }
    }

    private func lookupTree(_ id: git_oid) throws(GitError) -> OpaquePointer? {
        var oid = id
        var tree: OpaquePointer?
        try check("read tree \(id.hex)") { git_tree_lookup(&tree, repository.pointer, &oid) }
        return tree
    }
}

/// A `PathLookup` over a commit's tree, so `sluice.yaml` checks use the committed files.
public struct CommitPathLookup: PathLookup {
    let commit: GitCommit
    public init(_ commit: GitCommit) { self.commit = commit }
    public func kind(of path: String) -> PathKind? { commit.kind(at: path) }
}

extension GitCommit {
    /// Writes this commit's files into `directory` (created if needed) with libgit2, without
    /// touching the repository's own working tree, index or HEAD.
    public func checkout(to directory: String) throws(GitError) {
        var options = git_checkout_options()
        try check("prepare checkout") { git_checkout_options_init(&options, UInt32(GIT_CHECKOUT_OPTIONS_VERSION)) }
        options.checkout_strategy = GIT_CHECKOUT_FORCE.rawValue | GIT_CHECKOUT_RECREATE_MISSING.rawValue
            | GIT_CHECKOUT_DONT_UPDATE_INDEX.rawValue
        options.dir_mode = 0o755
        options.file_mode = 0  // libgit2's default: 0644, or 0755 for executables
        let code = directory.withCString { path -> Int32 in
            options.target_directory = path
            options.disable_filters = 0
            return git_checkout_tree(repository.pointer, pointer, &options)
        }
        if code < 0 { throw GitError.last("check out \(id.prefix(12)) into \(directory)", code: code) }
    }
}
