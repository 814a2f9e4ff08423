import CGit2
#if canImport(Glibc)
import Glibc
#endif

/// Git notes (`refs/notes/sluice`): Sluice's gate verdicts and promotions, attached to the
/// commits in the user's own repository so `git log --notes=sluice` shows them.
extension GitRepository {
    public static let sluiceNotes = "refs/notes/sluice"

    /// The note on `commit` under `notesRef`, or nil.
    public func note(on commit: String, notesRef: String = sluiceNotes) -> String? {
        guard var target = try? oid(commit) else { return nil }
        var note: OpaquePointer?
        guard git_note_read(&note, pointer, notesRef, &target) == 0 else { return nil }
        defer { git_note_free(note) }
        return git_note_message(note).map { String(cString: $0) }
    }

    /// Appends `text` as a new paragraph to the note on `commit` (creating it), as one
    /// new commit on the notes ref; earlier text is kept.
    public func appendNote(_ text: String, to commit: String, notesRef: String = sluiceNotes) throws(GitError) {
        var target = try oid(commit)
        let existing = note(on: commit, notesRef: notesRef)
        let message = (existing.map { $0.hasSuffix("\n") ? $0 + "\n" : $0 + "\n\n" } ?? "") + text + (text.hasSuffix("\n") ? "" : "\n")
        var signature: UnsafeMutablePointer<git_signature>?
        try check("make a signature for notes") { git_signature_now(&signature, "Sluice", "sluice@localhost") }
        defer { git_signature_free(signature) }
        var created = git_oid()
        try withWriterLock { () throws(GitError) in
            try check("write note on \(commit.prefix(12)) in \(notesRef)") {
                git_note_create(&created, pointer, notesRef, signature, signature, &target, message, 1)
            }
        }
    }
}

extension GitMirror {
    /// Pushes refs of a mirror back to its origin under the same names (e.g.
    /// `refs/notes/sluice`), with the same credentials and host-key checks as fetching;
    /// `deleting` refs are deleted there.
    public static func push(_ repository: GitRepository, refs: [String], deleting: [String] = [], url: String, credentials: GitCredentials) throws(GitError) {
        LibGit2.initialized
        let remote = try GitMirror.inMemoryRemote(url, in: repository)
        defer { git_remote_free(remote) }
        let payload = CredentialPayload(credentials, url: url)
        let unmanaged = Unmanaged.passRetained(payload)
        defer { unmanaged.release() }
        var options = git_push_options()
        git_push_options_init(&options, UInt32(GIT_PUSH_OPTIONS_VERSION))
        options.callbacks = callbacks(unmanaged)
        let code = GitMirror.withStrArray(refs.map { "\($0):\($0)" } + deleting.map { ":\($0)" }) { git_remote_push(remote, $0, &options) }
        if code < 0 { throw GitError.last("push \((refs + deleting.map { "(delete) " + $0 }).joined(separator: ", ")) to \(url)", code: code) }
    }
}
