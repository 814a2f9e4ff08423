import CGit2

/// Writes commits directly to a branch, without a working tree: the environment branches
/// (`sluice/env/<environment>`) that hold rendered manifests for Argo CD or Flux to sync.
extension GitRepository {
    /// Commits exactly `files` (the whole tree) on `branch`, on top of its current head.
    /// Returns the new commit id, or nil when the tree is unchanged (nothing to commit).
    public func commitFiles(_ files: [(path: String, content: String)], branch: String, message: String) throws(GitError) -> String? {
        try commitFiles(files, ref: "refs/heads/" + branch, message: message)
    }

    /// Commits exactly `files` on any ref (e.g. `refs/sluice/promotions`), on top of its current head.
    public func commitFiles(_ files: [(path: String, content: String)], ref refName: String, message: String) throws(GitError) -> String? {
        try withWriterLock { () throws(GitError) -> String? in try writeCommit(files, ref: refName, message: message) }
    }

    private func writeCommit(_ files: [(path: String, content: String)], ref refName: String, message: String) throws(GitError) -> String? {
        var parent: OpaquePointer?
        defer { if parent != nil { git_commit_free(parent) } }
        if let head = resolveReference(refName) {
            var oid = try oid(head)
            try check("read \(refName)") { git_commit_lookup(&parent, pointer, &oid) }
        }
        var root = Folder()
        for file in files { root.insert(file.path.split(separator: "/").map(String.init), content: file.content) }
        var treeID = try writeTree(root)
        if let parent, git_oid_equal(git_commit_tree_id(parent), &treeID) == 1 { return nil }

        var tree: OpaquePointer?
        try check("read the new tree") { git_tree_lookup(&tree, pointer, &treeID) }
        defer { git_tree_free(tree) }
        var signature: UnsafeMutablePointer<git_signature>?
        try check("make a signature") { git_signature_now(&signature, "Sluice", "sluice@localhost") }
        defer { git_signature_free(signature) }
        var created = git_oid()
        var parents: [OpaquePointer?] = parent.map { [$0] } ?? []
        try check("commit to \(refName)") {
            parents.withUnsafeMutableBufferPointer { buffer in
                git_commit_create(&created, pointer, refName, signature, signature, "UTF-8", message, tree, buffer.count, buffer.baseAddress)
            }
        }
        return created.hex
    }

    /// Files of a branch's head as (path, content), or [] when the branch does not exist.
    public func files(onBranch branch: String) -> [(path: String, content: String)] {
        guard let head = resolveReference("refs/heads/" + branch), let commit = try? commit(head) else { return [] }
        return commit.files(under: "").map { ($0.path, String(decoding: commit.contents(at: $0.path) ?? [], as: UTF8.self)) }
    }

    private struct Folder {
        var files: [String: String] = [:]
        var folders: [String: Folder] = [:]

        mutating func insert(_ parts: [String], content: String) {
            if parts.count == 1 { files[parts[0]] = content; return }
            folders[parts[0], default: Folder()].insert(Array(parts.dropFirst()), content: content)
        }
    }

    private func writeTree(_ folder: Folder) throws(GitError) -> git_oid {
        var builder: OpaquePointer?
        try check("start a tree") { git_treebuilder_new(&builder, pointer, nil) }
        defer { git_treebuilder_free(builder) }
        for (name, content) in folder.files {
            var blob = git_oid()
            let bytes = Array(content.utf8)
            try check("write blob \(name)") { git_blob_create_from_buffer(&blob, pointer, bytes, bytes.count) }
            try check("add \(name) to a tree") { git_treebuilder_insert(nil, builder, name, &blob, GIT_FILEMODE_BLOB) }
        }
        for (name, sub) in folder.folders {
            var subtree = try writeTree(sub)
            try check("add folder \(name) to a tree") { git_treebuilder_insert(nil, builder, name, &subtree, GIT_FILEMODE_TREE) }
        }
        var oid = git_oid()
        try check("write a tree") { git_treebuilder_write(&oid, builder) }
        return oid
    }
}
