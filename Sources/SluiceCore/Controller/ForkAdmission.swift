/// Whether a merge request's head commit may run now, from the repository's fork policy, where
/// the head comes from, and whether that commit was approved. Approval is per commit: a new
/// push to a fork's merge request waits again.
public enum ForkAdmission: Hashable, Sendable {
    case run
    /// Waits for `sluice approve-run`, the UI or the API; `reason` is shown as a pending status.
    case awaitingApproval(reason: String)
    /// Never runs under this policy.
    case refused(reason: String)

    /// Where the head branch lives.
    public enum Origin: Hashable, Sendable {
        case sameRepository
        case fork(String?)
        /// The forge could not say (none configured, or it did not answer): treated as a fork.
        case unknown(String)
    }

    public static func decide(policy: ControllerConfig.ForkPolicy, origin: Origin, approved: Bool) -> ForkAdmission {
        let from: String
        switch origin {
        case .sameRepository: return .run
        case .fork(let repository): from = "comes from a fork" + (repository.map { " (\($0))" } ?? "")
        case .unknown(let why): from = "may come from a fork (\(why))"
        }
        switch policy {
        case .always: return .run
        case .never: return .refused(reason: "not run: the head \(from), and this repository never runs merge requests from forks")
        case .approval:
            return approved ? .run : .awaitingApproval(reason: "waiting for approval: the head \(from); someone with the API token approves this commit to run it")
        }
    }
}
