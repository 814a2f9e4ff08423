import GRDB

/// One step of a model version down the environment chain (`environments:` in sluice.yaml):
/// an append-only log, as the promotion log is, of who or what moved it and why.
public struct EnvironmentStepRecord: Codable, Sendable, Hashable, FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "environment_steps"

    public enum State: String, Codable, Sendable, DatabaseValueConvertible {
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

    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

extension RunStore {
    public func appendStep(_ step: EnvironmentStepRecord) throws(StoreError) {
        try write { db in
            var s = step
            try s.insert(db)
        }
    }

    /// A model's steps, oldest first (one version's with `version`).
    public func steps(model: String, version: String? = nil) throws(StoreError) -> [EnvironmentStepRecord] {
        try read { db in
            var request = EnvironmentStepRecord.filter(Column("model") == model)
            if let version { request = request.filter(Column("version") == version) }
            return try request.order(Column("id")).fetchAll(db)
        }
    }

    /// A model's versions whose last step leaves them on their way (their next step may be due).
    public func openVersions(model: String) throws(StoreError) -> [String] {
        let byVersion = Dictionary(grouping: try steps(model: model), by: \.version)
        return byVersion.filter { _, steps in
            guard let last = steps.last else { return false }
            return [.entered, .verified, .awaitingApproval, .approved, .canary].contains(last.state)
        }.keys.sorted { $0.count != $1.count ? $0.count < $1.count : $0 < $1 }
    }

    /// Models with a version whose last step leaves it on its way (verified, waiting or approved).
    public func modelsInChains() throws(StoreError) -> [String] {
        try read { db in
            try String.fetchAll(db, sql: """
                SELECT DISTINCT s.model FROM environment_steps s
                WHERE s.id = (SELECT max(id) FROM environment_steps t WHERE t.model = s.model AND t.version = s.version)
                  AND s.state IN ('entered', 'verified', 'awaiting-approval', 'approved', 'canary')
                """)
        }
    }
}
