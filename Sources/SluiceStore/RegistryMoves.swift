public import GRDB

/// A registry whose production marker has not yet been moved to what the promotion log says.
///
/// The log decides production (a compare-and-swap); a registry that keeps a marker of its own
/// (MLflow's alias) follows it. The row is written in the same transaction as the log entry, so
/// a crash or a refused registry call between the two leaves a row behind, and whoever sees it
/// (the promotion itself, then the controller on each pass) moves the marker until it agrees.
public struct RegistryMoveRecord: Codable, Sendable, Hashable, FetchableRecord, PersistableRecord, StoredRecord {
    public static let databaseTableName = "registry_moves"
    public var model: String
    /// Failed tries so far.
    public var attempts: Int
    /// Why the last try failed.
    public var lastError: String?
    public var updatedAt: Double

    static var primaryKey: [String] { ["model"] }
}

extension RunStore {
    /// Every model whose registry has not confirmed the log's production version yet, oldest first.
    public func registryMovesDue() throws(StoreError) -> [RegistryMoveRecord] {
        try read { db in try db.fetchAll(RegistryMoveRecord.self, "SELECT * FROM registry_moves ORDER BY updatedAt, model") }
    }

    /// The pending move of `model`, if any.
    public func registryMove(model: String) throws(StoreError) -> RegistryMoveRecord? {
        try read { db in try db.fetchOne(RegistryMoveRecord.self, "SELECT * FROM registry_moves WHERE model = ?", [model]) }
    }

    /// Marks the move done when `version` is still what the log names (the registry now agrees
    /// with it); false when the log moved on meanwhile and the registry must move again.
    public func finishRegistryMove(model: String, version: String) throws(StoreError) -> Bool {
        try write { db in
            let current = try db.value(String.self, "SELECT version FROM promotions WHERE model = ? ORDER BY id DESC LIMIT 1", [model])
            guard current == version else { return false }
            try db.execute("DELETE FROM registry_moves WHERE model = ?", [model])
            return true
        }
    }

    /// Records a failed try; the row stays for the next one.
    public func failRegistryMove(model: String, error: String, at time: Double) throws(StoreError) {
        try write { db in
            try db.execute("UPDATE registry_moves SET attempts = attempts + 1, lastError = ?, updatedAt = ? WHERE model = ?",
                           [error, time, model])
        }
    }

    /// Called inside `appendPromotion`'s transaction.
    static func markRegistryMoveDue(_ db: any StoreTransaction, model: String, at time: Double) throws {
        try db.execute("""
            INSERT INTO registry_moves (model, attempts, lastError, updatedAt) VALUES (?, 0, NULL, ?)
            ON CONFLICT(model) DO UPDATE SET attempts = 0, lastError = NULL, updatedAt = excluded.updatedAt
            """, [model, time])
    }
}
