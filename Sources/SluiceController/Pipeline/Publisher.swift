public import SluiceGit

/// Pushes Sluice's refs (the notes, environment branches, the promotion record) back to a
/// remote repository with the credentials in Sluice's environment.
public struct Publisher: Sendable {
    public let url: String
    public let credentials: GitCredentials

    public init(url: String, environment: [String: String]) {
        self.url = url
        credentials = GitCredentials.fromEnvironment(environment)
    }

    /// The repository Sluice reads `url` from (the mirror) must be passed: it holds the refs.
    public func push(_ refs: [String], deleting: [String] = [], from repository: GitRepository) throws {
        guard !refs.isEmpty || !deleting.isEmpty else { return }
        try GitMirror.push(repository, refs: refs, deleting: deleting, url: url, credentials: credentials)
    }
}
