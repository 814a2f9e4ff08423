import GRDB
public import SluiceCore

extension RunStore {
    /// Registers a candidate as the model's next version ("1", "2", ...).
    public func registerVersion(model: String, commit: String, runId: Int64?, metrics: String, datasetVersions: String,
                                artifactDigest: String?, at time: Double) throws(StoreError) -> ModelVersionRecord {
        try write { db in
            // Versions are numbers; one that is not (imported by hand) counts as 0.
            let last = try db.values(String.self, "SELECT version FROM model_versions WHERE model = ?", [model]).map { Int($0) ?? 0 }.max() ?? 0
            let record = ModelVersionRecord(model: model, version: String(last + 1), commit: commit, runId: runId, metrics: metrics,
                                            datasetVersions: datasetVersions, artifactDigest: artifactDigest, createdAt: time)
            try db.insert(record)
            return record
        }
    }

    /// Adds a version recorded elsewhere (the promotion record in git) under its own number;
    /// a version already known is left as it is.
    public func importVersion(_ record: ModelVersionRecord) throws(StoreError) {
        try write { db in
            try db.insert(record, ignoringConflict: true)
        }
    }

    /// Every model that has versions, by name.
    public func modelNames() throws(StoreError) -> [String] {
        try read { db in try db.values(String.self, "SELECT DISTINCT model FROM model_versions ORDER BY model") }
    }

    public func modelVersions(model: String) throws(StoreError) -> [ModelVersionRecord] {
        try read { db in try db.fetchAll(ModelVersionRecord.self, "SELECT * FROM model_versions WHERE model = ? ORDER BY createdAt, version", [model]) }
    }

    public func modelVersion(model: String, version: String) throws(StoreError) -> ModelVersionRecord? {
        try read { db in try db.fetchOne(ModelVersionRecord.self, "SELECT * FROM model_versions WHERE model = ? AND version = ?", [model, version]) }
    }

    /// The promotion log of a model, oldest first.
    public func promotions(model: String) throws(StoreError) -> [PromotionRecord] {
        try read { db in try db.fetchAll(PromotionRecord.self, "SELECT * FROM promotions WHERE model = ? ORDER BY id", [model]) }
    }

    /// What `appendPromotion` did.
    public enum PromotionAppend: Sendable, Equatable {
        case appended
        /// Production was no longer the expected version.
        case productionMoved
        /// This replica's leadership term is over (the reason): another replica decides now.
        case fenced(String)
    }

    /// Appends to the log if production is still `expectedVersion` (nil: none) and this
    /// process's leadership term (if it leads a Lease) is the last, atomically, so two candidates
    /// finishing at once cannot both promote and a replica that no longer leads cannot promote
    /// at all. The same transaction marks the registry's move due (`RegistryMoveRecord`): the log
    /// decides, the registry follows; and records `events`, the promotion's notifications.
    public func appendPromotion(_ entry: PromotionRecord, expectedVersion: String?, events: [NotificationEvent] = []) throws(StoreError) -> PromotionAppend {
        let fence = fence.withLock { $0 }
        return try write { db in
            if let refusal = try Self.fenceRefusal(fence, act: "promoting \(entry.model) version \(entry.version)", db) { return .fenced(refusal) }
            let current = try db.value(String.self, "SELECT version FROM promotions WHERE model = ? ORDER BY id DESC LIMIT 1", [entry.model])
            guard current == expectedVersion else { return .productionMoved }
            var e = entry
            try db.insert(&e)
            try RunStore.markRegistryMoveDue(db, model: entry.model, at: entry.createdAt)
            try Self.record(events, in: db)
            return .appended
        }
    }

    /// The version the promotion log puts in production (nil before the first promotion).
    public func productionVersion(model: String) throws(StoreError) -> String? {
        try read { db in
            try db.value(String.self, "SELECT version FROM promotions WHERE model = ? ORDER BY id DESC LIMIT 1", [model])
        }
    }
}
