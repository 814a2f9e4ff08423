import FoundationEssentials
import SluiceCore
import SluiceGit
import SluiceStore

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
    ///   - verify: check the commits' signatures as `sluice run` and the controller would (`Outcome.source`).
    ///   - onRetry: told of each retry of a remote that could not be reached.
    public static func plan(location: String, stateDirectory: String, environment: [String: String], revision: String, since: String?,
                            ref: String?, verify: SourceVerification? = nil, onRetry: (String) -> Void) throws -> Result {
        let repository = try RepositorySource.open(location, stateDirectory: stateDirectory, credentials: GitCredentials.fromEnvironment(environment),
                                                   onRetry: { attempt, error, delay in
            onRetry("\(error); retrying in \((delay * 10).rounded() / 10)s (attempt \(attempt + 1))")
        })
        let repositoryKey = RepositorySource.stateLocation(location)
        // With runs in the state folder, plan as a run would: its cache hits, the data already
        // trained on, schedules and metric triggers (without it, nothing is cached or trained yet).
        let service = RunStores.exists(stateDirectory: stateDirectory, environment: environment)
            ? try RunService(stateDirectory: stateDirectory, options: PipelineRunner.Options(environment: environment)) : nil
        func plan(_ revision: String, since: String?, ref: String?) throws -> CommitPlanner.Outcome {
            var outcome = try service.map {
                try $0.plan(repository: repository, repositoryKey: repositoryKey, revision: revision, since: since, ref: ref, recover: false).outcome
            } ?? CommitPlanner(repository: repository).plan(revision: revision, since: since)
            if let verify {
                outcome.source = try CommitVerifier(settings: verify, environment: environment)
                    .verify(from: try since.map { try repository.commit($0).id }, to: try repository.commit(revision).id, in: repository)
            }
            return outcome
        }
        guard let ref else { return .planned(try plan(revision, since: since, ref: nil)) }
        let refName = ref.hasPrefix("refs/") ? ref : "refs/heads/" + ref
        let tracker = try RefTracker(store: service?.store, repository: repositoryKey)
        guard let update = try tracker.updates(in: repository, refs: [refName]).first else {
            if repository.resolveReference(refName) == nil { throw LoadError(message: "no ref '\(refName)' in \(location)") }
            return .nothingNew(ref: refName, last: tracker.lastProcessed(refName).map { CommitID($0).short } ?? "?")
        }
        var outcome = try plan(update.head, since: update.base, ref: refName)
        if let note = CommitPlanner.rewrittenNote(update) {
            outcome.notes.insert(note, at: 0)
            outcome.plan?.notes.insert(note, at: 0)
        }
        return .planned(outcome)
    }
}
