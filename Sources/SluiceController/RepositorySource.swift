import FoundationEssentials
public import SluiceCore
public import SluiceGit
#if canImport(Glibc)
import Glibc
#endif

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

    /// Local paths are keyed by their absolute form, URLs as given.
    public static func stateLocation(_ repo: String) -> String {
        if isRemote(repo) { return repo }
        let cwd = FileManager.default.currentDirectoryPath
        // Absolute and without "." / ".." / trailing slashes, so `.` and `/x/repo/` key the same repository.
        var parts: [Substring] = []
        for part in (repo.hasPrefix("/") ? repo : cwd + "/" + repo).split(separator: "/") {
            if part == "." { continue }
            if part == ".." { _ = parts.popLast(); continue }
            parts.append(part)
        }
        return "/" + parts.joined(separator: "/")
    }

    /// Opens a local repository, or syncs the mirror of a remote one. A remote that
    /// cannot be reached is retried with `backoff`; refused credentials are not retried.
    /// A mirror is opened for this call and closed when the caller lets it go: a watcher keeps
    /// none open between polls, since each open repository holds its pack files open and its
    /// caches in memory (ten thousand watched repositories held ten thousand descriptors, which
    /// every stage's process then had to close, and most of the controller's memory).
    public static func open(_ location: String, stateDirectory: String, credentials: GitCredentials,
                            mergeRequests: Bool = false, backoff: Backoff = Backoff(attempts: 3),
                            onRetry: (Int, GitError, Double) -> Void = { _, _, _ in }) throws(GitError) -> GitRepository {
        guard isRemote(location) else { return try GitRepository(path: location) }
        let mirror = try GitMirror.Handle(url: location, path: mirrorPath(for: location, stateDirectory: stateDirectory), mergeRequests: mergeRequests)
        try retrying(backoff, isTransient: { !$0.isAuthentication }, sleep: sleepSeconds, onRetry: onRetry) { () throws(GitError) in
            try mirror.fetch(credentials: credentials)
        }
        return mirror.repository
    }

    private static func sleepSeconds(_ seconds: Double) {
        var request = timespec(tv_sec: Int(seconds), tv_nsec: Int((seconds - Double(Int(seconds))) * 1e9))
        var remaining = timespec()
        while nanosleep(&request, &remaining) != 0 { request = remaining }
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
