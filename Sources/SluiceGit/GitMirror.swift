import CGit2

/// A bare mirror of a remote repository kept under the state directory and fetched
/// incrementally: branches, tags, and (when asked) merge-request heads.
public enum GitMirror {
    /// Refspecs for merge-request heads on GitHub and GitLab.
    public static let mergeRequestRefspecs = [
        "+refs/pull/*/head:refs/pull/*/head",
        "+refs/merge-requests/*/head:refs/merge-requests/*/head",
    ]

    /// Sluice's refs in the watched repository: the gate notes and the promotion record.
    static let sluiceRefspecs = ["+refs/notes/sluice:refs/notes/sluice", "+refs/sluice/*:refs/sluice/*"]

    /// Creates the mirror on first use, then fetches. Returns the opened mirror.
    public static func sync(url: String, into path: String, credentials: GitCredentials = GitCredentials(),
                            mergeRequests: Bool = false) throws(GitError) -> GitRepository {
        let handle = try Handle(url: url, path: path, mergeRequests: mergeRequests)
        try handle.fetch(credentials: credentials)
        return handle.repository
    }

    /// A mirror with its `origin` remote kept open between fetches. A poller keeps one: libgit2
    /// 1.5 with PCRE2 ≥ 10.41 leaks about 100 KB in every remote lookup (its config regex
    /// search never frees the match data), which polling 20 repositories turned into
    /// megabytes a minute; fetching again through the same remote leaks nothing.
    /// Use from one thread at a time.
    public final class Handle: @unchecked Sendable {
        public let repository: GitRepository
        public let url: String
        private let remote: OpaquePointer

        /// Opens the mirror at `path` (creating it, with its refspecs, on first use).
        public init(url: String, path: String, mergeRequests: Bool = false) throws(GitError) {
            _ = LibGit2.initialized
            var repo: OpaquePointer?
            if git_repository_open_bare(&repo, path) != 0 {
                try check("create mirror at '\(path)'") { git_repository_init(&repo, path, 1) }
                var remote: OpaquePointer?
                try check("add remote '\(url)'") {
                    git_remote_create_with_fetchspec(&remote, repo, "origin", url, "+refs/heads/*:refs/heads/*")
                }
                git_remote_free(remote)
                try check("add tag refspec") { git_remote_add_fetch(repo, "origin", "+refs/tags/*:refs/tags/*") }
                if mergeRequests {
                    for spec in mergeRequestRefspecs {
                        try check("add refspec \(spec)") { git_remote_add_fetch(repo, "origin", spec) }
                    }
                }
            }
            let opened = GitRepository(owning: repo!, path: path)
            repository = opened
            self.url = url
            // Sluice's own refs come back too, so a fresh state folder sees the notes and the
            // promotion record, and appends to them fast-forward (mirrors made before lacked them).
            let configured = try origin(of: opened)!
            var specs = git_strarray()
            let known = git_remote_get_fetch_refspecs(&specs, configured) == 0
                ? (0..<specs.count).compactMap { specs.strings[$0].map { String(cString: $0) } } : []
            git_strarray_dispose(&specs)
            git_remote_free(configured)
            for spec in GitMirror.sluiceRefspecs where !known.contains(spec) {
                try check("add refspec \(spec)") { git_remote_add_fetch(opened.pointer, "origin", spec) }
            }
            remote = try origin(of: opened)!
        }

        deinit { git_remote_free(remote) }

        /// Fetches branches and tags (pruning deleted ones), and points the mirror's HEAD at
        /// the remote's default branch.
        public func fetch(credentials: GitCredentials) throws(GitError) {
            let payload = CredentialPayload(credentials, url: url)
            let unmanaged = Unmanaged.passRetained(payload)
            defer { unmanaged.release() }

            var options = git_fetch_options()
            git_fetch_options_init(&options, UInt32(GIT_FETCH_OPTIONS_VERSION))
            options.callbacks = callbacks(unmanaged)
            options.prune = GIT_FETCH_PRUNE
            options.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_ALL

            // Connect first so the remote's default branch can become the mirror's HEAD.
            var callbacks = options.callbacks
            let connected = git_remote_connect(remote, GIT_DIRECTION_FETCH, &callbacks, nil, nil)
            if connected < 0 { throw describe(GitError.last("connect to \(url)", code: connected), url: url, payload: payload) }
            var branch = git_buf()
            if git_remote_default_branch(&branch, remote) == 0, let name = branch.ptr {
                git_repository_set_head(repository.pointer, name)
            }
            git_buf_dispose(&branch)
            payload.attempts = 0
            let code = git_remote_fetch(remote, nil, &options, "sluice: fetch")
            if code < 0 { throw describe(GitError.last("fetch \(url)", code: code), url: url, payload: payload) }
        }
    }

    /// The mirror's `origin` remote (the caller frees it).
    static func origin(of repository: GitRepository) throws(GitError) -> OpaquePointer? {
        var remote: OpaquePointer?
        try check("find remote of \(repository.path)") { git_remote_lookup(&remote, repository.pointer, "origin") }
        return remote
    }

    /// Callbacks that answer credential requests and check host keys, for fetch and push alike.
    static func callbacks(_ payload: Unmanaged<CredentialPayload>) -> git_remote_callbacks {
        var callbacks = git_remote_callbacks()
        git_remote_init_callbacks(&callbacks, UInt32(GIT_REMOTE_CALLBACKS_VERSION))
        callbacks.credentials = credentialCallback
        callbacks.certificate_check = certificateCheckCallback
        callbacks.payload = payload.toOpaque()
        return callbacks
    }

    /// Turns an authentication failure into a message naming what was tried.
    static func describe(_ error: GitError, url: String, payload: CredentialPayload) -> GitError {
        if let problem = payload.hostKeyProblem {
            return GitError(operation: "authenticate to \(url)", message: problem, code: error.code)
        }
        let lower = error.message.lowercased()
        if error.code == GIT_EAUTH.rawValue || lower.contains("auth") || lower.contains("credential") || lower.contains("401") {
            return GitError(operation: "authenticate to \(url)",
                            message: "the remote refused the credentials tried: \(payload.credentials.described)", code: error.code)
        }
        return GitError(operation: "reach \(url)", message: error.message, code: error.code)
    }
}
