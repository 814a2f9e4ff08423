import GRDB
public import SluiceCore

extension RunStore {
    /// Registers a candidate as the model's next version ("1", "2", ...).
    public func registerVersion(model: String, commit: String, runId: Int64?, metrics: String, datasetVersions: String,
                                artifactDigest: String?, at time: Double) throws(StoreError) -> ModelVersionRecord {
        try write { db in
            let last = try Int.fetchOne(db, sql: "SELECT MAX(CAST(version AS INTEGER)) FROM model_versions WHERE model = ?", arguments: [model]) ?? 0
            let record = ModelVersionRecord(model: model, version: String(last + 1), commit: commit, runId: runId, metrics: metrics,
                                            datasetVersions: datasetVersions, artifactDigest: artifactDigest, createdAt: time)
            try record.insert(db)
            return record
        }
    }

    /// Adds a version recorded elsewhere (the promotion record in git) under its own number;
    /// a version already known is left as it is.
    public func importVersion(_ record: ModelVersionRecord) throws(StoreError) {
        try write { db in
            guard try ModelVersionRecord.fetchOne(db, key: ["model": record.model, "version": record.version]) == nil else { return }
            try record.insert(db)
        }
    }

    /// Every model that has versions, by name.
    public func modelNames() throws(StoreError) -> [String] {
        try read { db in try String.fetchAll(db, sql: "SELECT DISTINCT model FROM model_versions ORDER BY model") }
    }

    public func modelVersions(model: String) throws(StoreError) -> [ModelVersionRecord] {
        try read { db in try ModelVersionRecord.filter(Column("model") == model).order(Column("createdAt")).fetchAll(db) }
    }

    public func modelVersion(model: String, version: String) throws(StoreError) -> ModelVersionRecord? {
        try read { db in try ModelVersionRecord.fetchOne(db, key: ["model": model, "version": version]) }
    }

    /// The promotion log of a model, oldest first.
    public func promotions(model: String) throws(StoreError) -> [PromotionRecord] {
        try read { db in try PromotionRecord.filter(Column("model") == model).order(Column("id")).fetchAll(db) }
    }

    /// Appends to the log if production is still `expectedVersion` (nil: none), atomically,
    /// so two candidates finishing at once cannot both promote. The same transaction marks the
    /// registry's move due (`RegistryMoveRecord`): the log decides, the registry follows.
    public func appendPromotion(_ entry: PromotionRecord, expectedVersion: String?) throws(StoreError) -> Bool {
        try write { db in
            let current = try String.fetchOne(db, sql: "SELECT version FROM promotions WHERE model = ? ORDER BY id DESC LIMIT 1", arguments: [entry.model])
            guard current == expectedVersion else { return false }
            var e = entry
            try e.insert(db)
            try RunStore.markRegistryMoveDue(db, model: entry.model, at: entry.createdAt)
            return true
        }
    }

    /// The version the promotion log puts in production (nil before the first promotion).
    public func productionVersion(model: String) throws(StoreError) -> String? {
        try read { db in
            try String.fetchOne(db, sql: "SELECT version FROM promotions WHERE model = ? ORDER BY id DESC LIMIT 1", arguments: [model])
        }
    }
}
