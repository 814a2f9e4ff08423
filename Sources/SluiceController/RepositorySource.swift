import SluiceCore
public import SluiceGit

/// Where a watched repository lives: a local path used in place, or a URL mirrored
/// into `<state>/mirrors/<hash>.git` and fetched incrementally.
public enum RepositorySource {
    public static func isRemote(_ location: String) -> Bool {
        if location.contains("://") { return true }
        // scp-like ssh: user@host:path (not a local path with a colon in it).
        if let at = location.firstIndex(of: "@"), let colon = location.firstIndex(of: ":"), at < colon,
           !location.hasPrefix("/"), !location.hasPrefix(".") {
            return true
        }
        return false
    }

    public static func open(_ location: String, stateDirectory: String, credentials: GitCredentials,
                            mergeRequests: Bool = false) throws(GitError) -> GitRepository {
        guard isRemote(location) else { return try GitRepository(path: location) }
        return try GitMirror.sync(url: location, into: mirrorPath(for: location, stateDirectory: stateDirectory),
                                  credentials: credentials, mergeRequests: mergeRequests)
    }

    /// A stable folder per URL.
    public static func mirrorPath(for url: String, stateDirectory: String) -> String {
        stateDirectory + "/mirrors/" + stateKey(for: url) + ".git"
    }

    /// A stable, file-name-safe key for a repository location (URL or path).
    public static func stateKey(for location: String) -> String {
        String(ContentHash.sha256Hex(Array(location.utf8)).prefix(16))
    }
}
