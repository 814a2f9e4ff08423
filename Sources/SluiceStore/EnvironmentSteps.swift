import GRDB
public import SluiceCore

extension RunStore {
    /// Appends `step`, with the events it causes in the same transaction.
    public func appendStep(_ step: EnvironmentStepRecord, events: [NotificationEvent] = []) throws(StoreError) {
        try write { db in
            var s = step
            try db.insert(&s)
            try Self.record(events, in: db)
        }
    }

    /// A model's steps, oldest first (one version's with `version`).
    public func steps(model: String, version: String? = nil) throws(StoreError) -> [EnvironmentStepRecord] {
        try read { db in
            if let version {
                return try db.fetchAll(EnvironmentStepRecord.self, "SELECT * FROM environment_steps WHERE model = ? AND version = ? ORDER BY id",
                                       [model, version])
            }
            return try db.fetchAll(EnvironmentStepRecord.self, "SELECT * FROM environment_steps WHERE model = ? ORDER BY id", [model])
        }
    }

    /// A model's versions whose last step leaves them on their way (their next step may be due).
    public func openVersions(model: String) throws(StoreError) -> [String] {
        let byVersion = Dictionary(grouping: try steps(model: model), by: \.version)
        return byVersion.filter { _, steps in
            guard let last = steps.last else { return false }
            return [.admitted, .entered, .verified, .awaitingApproval, .approved, .canary].contains(last.state)
        }.keys.sorted { $0.count != $1.count ? $0.count < $1.count : $0 < $1 }
    }

    /// Models with a version whose last step leaves it on its way (verified, waiting or approved).
    public func modelsInChains() throws(StoreError) -> [String] {
        try read { db in
            try db.values(String.self, """
                SELECT DISTINCT s.model FROM environment_steps s
                WHERE s.id = (SELECT max(id) FROM environment_steps t WHERE t.model = s.model AND t.version = s.version)
                  AND s.state IN ('admitted', 'entered', 'verified', 'awaiting-approval', 'approved', 'canary')
                ORDER BY s.model
                """)
        }
    }
}
