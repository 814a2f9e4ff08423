import FoundationEssentials
public import SluiceCore
import SluiceGit

/// `sluice plan`: which stages a commit must run and why, for a revision, or for a ref's head
/// against the last commit Sluice processed on it.
public enum CommitPlanning {
    public enum Result: Sendable {
        case planned(CommitPlanner.Outcome)
        /// The ref's head is the commit last processed (`last`: its short id, or `?`).
        case nothingNew(ref: String, last: String)
    }

    /// - Parameters:
    ///   - ref: a branch name or full ref; when given, `revision` and `since` are not used.
    ///   - onRetry: told of each retry of a remote that could not be reached.
    public static func plan(location: String, stateDirectory: String, environment: [String: String], revision: String, since: String?,
                            ref: String?, onRetry: (String) -> Void) throws -> Result {
        let repository = try RepositorySource.open(location, stateDirectory: stateDirectory, credentials: GitCredentials.fromEnvironment(environment),
                                                   onRetry: { attempt, error, delay in
            onRetry("\(error); retrying in \((delay * 10).rounded() / 10)s (attempt \(attempt + 1))")
        })
        guard let ref else { return .planned(try CommitPlanner(repository: repository).plan(revision: revision, since: since)) }
        let refName = ref.hasPrefix("refs/") ? ref : "refs/heads/" + ref
        let tracker = try RefTracker(stateDirectory: stateDirectory, repository: RepositorySource.stateLocation(location))
        guard let update = try tracker.updates(in: repository, refs: [refName]).first else {
            if repository.resolveReference(refName) == nil { throw LoadError(message: "no ref '\(refName)' in \(location)") }
            return .nothingNew(ref: refName, last: tracker.lastProcessed(refName).map { String($0.prefix(12)) } ?? "?")
        }
        return .planned(try CommitPlanner(repository: repository).plan(update))
    }
}
