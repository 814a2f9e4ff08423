import FoundationEssentials
import SluiceCore
import SluiceGit
import SluiceStore

/// `sluice approve-run`: lets a held merge request's head run (a fork's, under
/// `fork-policy: approve`). The approval names the commit reviewed, so a push after the review
/// needs a new one.
public enum MergeRequestApproval {
    public struct Approved: Sendable {
        public var repository: String
        public var ref: String
        public var commit: String
        public var actor: String
    }

    public enum Refusal: Error, Sendable, CustomStringConvertible {
        /// No such merge request ref in the repository (yet).
        case noMergeRequest(String)
        /// The head moved away from the commit the reviewer named.
        case headMoved(ref: String, head: String, reviewed: String)

        public var description: String {
            switch self {
            case .noMergeRequest(let m): return m
            case .headMoved(let ref, let head, let reviewed):
                return "\(ref) is now at \(CommitID(head).short), not \(reviewed): review that commit, then approve it"
            }
        }
    }

    /// Approves merge request `mergeRequest` (its number or head ref) of `location` at its head,
    /// which must start with `reviewed` (7 or more characters) when given.
    public static func approve(location: String, mergeRequest: String, reviewed: String?, actor: String,
                               stateDirectory: String, environment: [String: String]) throws -> Approved {
        let repository = try RepositorySource.open(location, stateDirectory: stateDirectory, credentials: GitCredentials.fromEnvironment(environment))
        let candidates = mergeRequest.hasPrefix("refs/") ? [mergeRequest] : ["refs/pull/\(mergeRequest)/head", "refs/merge-requests/\(mergeRequest)/head"]
        guard let ref = candidates.first(where: { MergeRequestRef.number(of: $0) != nil && repository.resolveReference($0) != nil }),
              let head = repository.resolveReference(ref) else {
            throw Refusal.noMergeRequest("no merge request \(mergeRequest) in \(location) (looked for \(candidates.joined(separator: ", ")); has the controller fetched it?)")
        }
        if let reviewed, reviewed.count < 7 || !head.hasPrefix(reviewed.lowercased()) {
            throw Refusal.headMoved(ref: ref, head: head, reviewed: reviewed)
        }
        let key = RepositorySource.stateLocation(location)
        try RunStores.open(stateDirectory: stateDirectory, environment: environment).approve(repository: key, ref: ref, commit: head, by: actor, at: WallClock.now())
        return Approved(repository: key, ref: ref, commit: head, actor: actor)
    }
}
