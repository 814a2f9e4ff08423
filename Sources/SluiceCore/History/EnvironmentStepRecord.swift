/// One step of a model version down the environment chain (`environments:` in sluice.yaml):
/// an append-only log, as the promotion log is, of who or what moved it and why.
public struct EnvironmentStepRecord: Codable, Sendable, Hashable {

    public enum State: String, Codable, Sendable {
        /// The gate passed it: it goes into the first environment (recorded with the gate's
        /// report, so a crash before the deploy leaves it for the chain to take on).
        case admitted
        /// Deployed and healthy in the environment.
        case entered
        /// Its checks passed there.
        case verified
        /// A deploy or a check failed there: the chain stops.
        case failed
        /// The next environment is `promote: manual`: waiting for `sluice approve`.
        case awaitingApproval = "awaiting-approval"
        /// Someone approved it into the environment.
        case approved
        /// A newer version entered the environment first: this one stops.
        case superseded
        /// A canary step set (its weight in `detail`); the analysis after the pause decides.
        case canary
    }

    public var id: Int64?
    public var model: String
    public var version: String
    public var environment: String
    public var state: State
    /// What happened, in words (the checks' measured values, the deploy's failure).
    public var detail: String
    /// Who or what: `sluice run 12`, `sluice watch`, or the user who approved.
    public var actor: String
    public var reason: String?
    public var runId: Int64?
    public var createdAt: Double

    public init(model: String, version: String, environment: String, state: State, detail: String, actor: String,
                reason: String? = nil, runId: Int64? = nil, createdAt: Double) {
        self.model = model
        self.version = version
        self.environment = environment
        self.state = state
        self.detail = detail
        self.actor = actor
        self.reason = reason
        self.runId = runId
        self.createdAt = createdAt
    }
}

