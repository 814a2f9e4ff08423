import FoundationEssentials
import GRDB
public import SluiceCore

/// What the controller observed and did, per repository and environment: conditions, the
/// version each environment was last deployed with, and each run's verdict. Read by
/// `sluice status`, the web UI and `/metrics`, also from another process than the controller.
extension RunStore {
    /// Replaces the stored conditions of a repository (`environment` "") or one of its environments.
    public func saveConditions(_ conditions: Conditions, repository: String, environment: String = "") throws(StoreError) {
        try saveConditions(conditions, environments: [:], repository: repository, only: environment)
    }

    /// Saves a repository's conditions and its environments' in one transaction, with the
    /// events their changes cause.
    public func saveConditions(_ conditions: Conditions, environments: [String: Conditions], repository: String,
                               events: [NotificationEvent] = []) throws(StoreError) {
        try saveConditions(conditions, environments: environments, repository: repository, only: nil, events: events)
    }

    private func saveConditions(_ conditions: Conditions, environments: [String: Conditions], repository: String, only: String?,
                                events: [NotificationEvent] = []) throws(StoreError) {
        try write { db in
            let all = [(only ?? "", conditions)] + environments.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
            for (environment, conditions) in all {
                try db.execute("DELETE FROM conditions WHERE repository = ? AND environment = ?", [repository, environment])
                for c in conditions.all {
                    try db.execute("""
                        INSERT INTO conditions (repository, environment, type, status, reason, message, transitionAt) VALUES (?, ?, ?, ?, ?, ?, ?)
                        """, [repository, environment, c.kind.rawValue, c.status.rawValue, c.reason, c.message, c.transitionTime])
                }
            }
            try Self.record(events, in: db)
        }
    }

    /// The stored conditions by repository, then environment ("" for the repository's own).
    public func conditions(repository: String? = nil) throws(StoreError) -> [String: [String: Conditions]] {
        try read { db in
            var sql = "SELECT * FROM conditions"
            var arguments: SQLArguments = []
            if let repository {
                sql += " WHERE repository = ?"
                arguments = [repository]
            }
            sql += " ORDER BY repository, environment, type"
            var result: [String: [String: [Condition]]] = [:]
            for row in try db.rows(sql, arguments) {
                // A type or status this version does not know (written by a newer one) is skipped.
                guard let kind = Condition.Kind(rawValue: row["type"]), let status = Condition.Status(rawValue: row["status"]) else { continue }
                result[row["repository"], default: [:]][row["environment"], default: []]
                    .append(Condition(kind, status, reason: row["reason"], message: row["message"], at: row["transitionAt"]))
            }
            return result.mapValues { $0.mapValues { Conditions($0) } }
        }
    }

    public struct DeployedVersion: Sendable, Hashable {
        public var version: String
        public var deployedAt: Double
    }

    /// Records that `environment` now runs `version` of `model` (after a deploy that succeeded).
    public func setDeployedVersion(model: String, environment: String, version: String, at time: Double) throws(StoreError) {
        try write { db in
            try db.execute("""
                INSERT INTO deployed_versions (model, environment, version, deployedAt) VALUES (?, ?, ?, ?)
                ON CONFLICT (model, environment) DO UPDATE SET version = excluded.version, deployedAt = excluded.deployedAt
                """, [model, environment, version, time])
        }
    }

    /// The version of `model` that `environment` was last deployed with, nil when Sluice never deployed it.
    public func deployedVersion(model: String, environment: String) throws(StoreError) -> DeployedVersion? {
        try read { db in
            try db.rows("SELECT version, deployedAt FROM deployed_versions WHERE model = ? AND environment = ?",
                        [model, environment]).first.map { DeployedVersion(version: $0["version"], deployedAt: $0["deployedAt"]) }
        }
    }

    /// Records a run's verdict, with the events it causes in the same transaction.
    public func setVerdict(_ runID: Int64, _ verdict: Verdict, events: [NotificationEvent] = []) throws(StoreError) {
        try write { db in
            try db.execute("UPDATE runs SET verdict = ? WHERE id = ?", [verdict.rawValue, runID])
            try Self.record(events, in: db)
        }
    }

    /// Records what the gate decided, all or nothing: its report, the run's verdict, the events it
    /// announces and, for a version that passed into `environments:`, its admission to the first
    /// one (`admitted`, unless the version has steps already: a retried run gated it again). A
    /// crash before this leaves the run to be gated again; after it, the environment chain
    /// finds the admitted version and moves it on, whichever replica leads.
    public func recordGate(_ report: ReportRecord, verdict: Verdict, admitted: EnvironmentStepRecord?, events: [NotificationEvent]) throws(StoreError) {
        try write { db in
            try db.upsert(report)
            try db.execute("UPDATE runs SET verdict = ? WHERE id = ?", [verdict.rawValue, report.runId])
            if var step = admitted,
               try db.value(Int.self, "SELECT count(*) FROM environment_steps WHERE model = ? AND version = ?", [step.model, step.version]) == 0 {
                try db.insert(&step)
            }
            try Self.record(events, in: db)
        }
    }
}
