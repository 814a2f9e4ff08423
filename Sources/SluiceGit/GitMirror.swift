import CGit2
#if canImport(Glibc)
import Glibc
#endif

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

    /// An open mirror, whose fetches go through in-memory remotes. libgit2 1.5
    /// with PCRE2 >= 10.41 leaks about 100 KB in every lookup of a configured remote and in
    /// every url.insteadOf rewrite (its config regex search never frees the match data): a
    /// controller that opened its mirrors by looking `origin` up grew by half a megabyte per
    /// repository and run. So fetches go through an anonymous remote created without insteadOf,
    /// with Sluice's refspecs passed explicitly; `origin` is still written to the mirror's
    /// config once, when it is created, for people who inspect the mirror with git.
    /// Use from one thread at a time.
    public final class Handle: @unchecked Sendable {
        public let repository: GitRepository
        public let url: String
        /// What a fetch brings: branches, tags, Sluice's refs, and merge-request heads if asked.
        private let refspecs: [String]

        /// Opens the mirror at `path` (creating it on first use).
        public init(url: String, path: String, mergeRequests: Bool = false) throws(GitError) {
            _ = LibGit2.initialized
            var repo: OpaquePointer?
            if git_repository_open_bare(&repo, path) != 0 {
                try check("create mirror at '\(path)'") { git_repository_init(&repo, path, 1) }
                // Written as plain config values: git_remote_create would search the config
                // with a regex (the leak above) to see whether the remote exists.
                var config: OpaquePointer?
                try check("open the config of '\(path)'") { git_repository_config(&config, repo) }
                defer { git_config_free(config) }
                try check("add remote '\(url)'") { git_config_set_string(config, "remote.origin.url", url) }
                try check("add remote '\(url)'") { git_config_set_string(config, "remote.origin.fetch", "+refs/heads/*:refs/heads/*") }
            }
            let opened = GitRepository(owning: repo!, path: path)
            repository = opened
            self.url = url
            // Sluice's own refs come back too, so a fresh state folder sees the notes and the
            // promotion record, and appends to them fast-forward.
            refspecs = ["+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*"]
                + (mergeRequests ? mergeRequestRefspecs : []) + sluiceRefspecs
        }

        /// Fetches branches and tags (pruning deleted ones), and points the mirror's HEAD at
        /// the remote's default branch.
        public func fetch(credentials: GitCredentials) throws(GitError) {
            // A remote per fetch: it is cheap to make this way, and freeing it frees the
            // connection's buffers (tens of KB that would otherwise stay with every repository).
            let remote = try inMemoryRemote(url, in: repository)
            defer { git_remote_free(remote) }
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
            let code = repository.withWriterLock { GitMirror.withStrArray(refspecs) { git_remote_fetch(remote, $0, &options, "sluice: fetch") } }
            if code < 0 { throw describe(GitError.last("fetch \(url)", code: code), url: url, payload: payload) }
        }
    }

    /// A remote for `url` that lives only in memory, made without reading the repository's
    /// config or applying url.insteadOf (both leak in libgit2 1.5, see `Handle`). The caller frees it.
    static func inMemoryRemote(_ url: String, in repository: GitRepository) throws(GitError) -> OpaquePointer? {
        var options = git_remote_create_options()
        git_remote_create_options_init(&options, UInt32(GIT_REMOTE_CREATE_OPTIONS_VERSION))
        options.repository = repository.pointer
        options.flags = GIT_REMOTE_CREATE_SKIP_INSTEADOF.rawValue | GIT_REMOTE_CREATE_SKIP_DEFAULT_FETCHSPEC.rawValue
        var remote: OpaquePointer?
        try check("prepare a connection to \(url)") { git_remote_create_with_opts(&remote, url, &options) }
        return remote
    }

    /// Calls `body` with `strings` as a libgit2 string array (valid only during the call).
    static func withStrArray<T>(_ strings: [String], _ body: (UnsafePointer<git_strarray>) -> T) -> T {
        var pointers: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
        defer { pointers.forEach { free($0) } }
        return pointers.withUnsafeMutableBufferPointer { buffer in
            var array = git_strarray(strings: buffer.baseAddress, count: buffer.count)
            return body(&array)
        }
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
