/// What the controller knows about one watched repository right now: shown by the web UI,
/// `/readyz`, `/metrics` and `sluice status`.
public struct RepositoryHealth: Sendable, Codable {
    /// Fetched and its spec valid: the repository can be worked on.
    public var healthy = true
    public var reason: String?
    public var lastPoll: Double?
    public var lastSuccessfulPoll: Double?
    public var consecutiveFailures = 0
    public var runsStarted = 0
    public var superseded = 0
    /// The repository's conditions, and each environment's.
    public var conditions = Conditions()
    public var environments: [String: Conditions] = [:]
    /// Merge requests the fork policy holds back, by ref.
    public var held: [String: HeldMergeRequest] = [:]

    public init() {}
}

/// A merge request's head that does not run: waiting for approval, or refused by policy.
public struct HeldMergeRequest: Sendable, Codable, Hashable {
    public var ref: String
    public var head: String
    public var reason: String
    public var awaitingApproval: Bool
    public var since: Double

    public init(ref: String, head: String, reason: String, awaitingApproval: Bool, since: Double) {
        self.ref = ref
        self.head = head
        self.reason = reason
        self.awaitingApproval = awaitingApproval
        self.since = since
    }
}

/// Why an operator's action (re-run, promote, roll back, approve) was refused: the HTTP API
/// answers 404, 409 or 500 by kind.
public enum ActionError: Error, Sendable, CustomStringConvertible {
    case notFound(String)
    /// The request is valid but the state does not allow it (a running run, …).
    case conflict(String)
    case failed(String)

    public var description: String {
        switch self {
        case .notFound(let m), .conflict(let m), .failed(let m): return m
        }
    }
}
