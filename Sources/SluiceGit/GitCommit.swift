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
    public var time: Int64 { Int64(git_commit_time(pointer)) }

    public var parentIDs: [String] {
        (0..<git_commit_parentcount(pointer)).compactMap { git_commit_parent_id(pointer, $0)?.pointee.hex }
    }

    /// The object id of a file or folder at `path`, or nil when absent. For the
    /// repository root pass "".
    public func objectID(at path: String) -> String? {
        if path.isEmpty || path == "." { return treeID }
        var entry: OpaquePointer?
        guard git_tree_entry_bypath(&entry, tree, trimmed(path)) == 0 else { return nil }
        defer { git_tree_entry_free(entry) }
        return git_tree_entry_id(entry).pointee.hex
    }

    public func kind(at path: String) -> PathKind? {
        if path.isEmpty || path == "." { return .directory }
        var entry: OpaquePointer?
        guard git_tree_entry_bypath(&entry, tree, trimmed(path)) == 0 else { return nil }
        defer { git_tree_entry_free(entry) }
        switch git_tree_entry_type(entry) {
        case GIT_OBJECT_TREE: return .directory
        case GIT_OBJECT_BLOB: return .file
        default: return nil  // submodules
        }
    }

    /// The bytes of the file at `path`, or nil when it is absent or a folder.
    public func contents(at path: String) -> [UInt8]? {
        var entry: OpaquePointer?
        guard git_tree_entry_bypath(&entry, tree, trimmed(path)) == 0 else { return nil }
        defer { git_tree_entry_free(entry) }
        guard git_tree_entry_type(entry) == GIT_OBJECT_BLOB else { return nil }
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
            guard git_tree_entry_bypath(&entry, tree, trimmed(folder)) == 0 else { return [] }
            defer { git_tree_entry_free(entry) }
            if git_tree_entry_type(entry) == GIT_OBJECT_BLOB {
                return [(trimmed(folder), git_tree_entry_id(entry).pointee.hex)]
            }
            guard git_tree_lookup(&owned, repository.pointer, git_tree_entry_id(entry)) == 0 else { return [] }
            start = owned!
        }
        defer { if let owned { git_tree_free(owned) } }
        walk(start, prefix: folder.isEmpty ? "" : trimmed(folder) + "/", into: &result)
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

    /// Paths that differ between `base` and this commit, with renames detected
    /// (a rename lists both its old and new path). Nil base: every file is new.
    public func changedPaths(since base: GitCommit?) throws(GitError) -> [FileChange] {
        var options = git_diff_options()
        git_diff_options_init(&options, UInt32(GIT_DIFF_OPTIONS_VERSION))
        var diff: OpaquePointer?
        try check("diff \(base?.id ?? "empty tree")..\(id)") {
            git_diff_tree_to_tree(&diff, repository.pointer, base?.tree, tree, &options)
        }
        defer { git_diff_free(diff) }
        var find = git_diff_find_options()
        git_diff_find_options_init(&find, UInt32(GIT_DIFF_FIND_OPTIONS_VERSION))
        find.flags = GIT_DIFF_FIND_RENAMES.rawValue
        find.rename_limit = 100_000   // large renames must still pair up
        try check("detect renames") { git_diff_find_similar(diff, &find) }
        var changes: [FileChange] = []
        for i in 0..<git_diff_num_deltas(diff) {
            guard let delta = git_diff_get_delta(diff, i)?.pointee else { continue }
            let newPath = String(cString: delta.new_file.path)
            let oldPath = String(cString: delta.old_file.path)
            let kind: FileChange.Kind
            switch delta.status {
            case GIT_DELTA_ADDED: kind = .added
            case GIT_DELTA_DELETED: kind = .deleted
            case GIT_DELTA_RENAMED: kind = .renamed(from: oldPath)
            default: kind = .modified
            }
            changes.append(FileChange(path: kind == .deleted ? oldPath : newPath, kind: kind))
        }
        return changes
    }

    private func trimmed(_ path: String) -> String {
        var p = path
        while p.hasPrefix("./") { p.removeFirst(2) }
        while p.count > 1, p.hasSuffix("/") { p.removeLast() }
        return p
    }
}

/// A `PathLookup` over a commit's tree, so `sluice.yaml` checks use the committed files.
public struct CommitPathLookup: PathLookup {
    let commit: GitCommit
    public init(_ commit: GitCommit) { self.commit = commit }
    public func kind(of path: String) -> PathKind? { commit.kind(at: path) }
}
