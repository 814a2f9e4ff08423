public import GRDB
public import SluiceCore

// How the run store persists the history values of `SluiceCore` (their Codable keys are the
// columns; see RunStore+Migrations).

extension RunStatus: DatabaseValueConvertible {}
extension StageStatus: DatabaseValueConvertible {}
extension ArtifactKind: DatabaseValueConvertible {}
extension PromotionRecord.Action: DatabaseValueConvertible {}
extension EnvironmentStepRecord.State: DatabaseValueConvertible {}

extension RunRecord: FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "runs"
    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

extension StageResultRecord: FetchableRecord, PersistableRecord {
    public static let databaseTableName = "stage_results"
}

extension ArtifactRecord: FetchableRecord, PersistableRecord {
    public static let databaseTableName = "artifacts"
}

extension ReportRecord: FetchableRecord, PersistableRecord {
    public static let databaseTableName = "reports"
}

extension ModelVersionRecord: FetchableRecord, PersistableRecord {
    public static let databaseTableName = "model_versions"
}

extension PromotionRecord: FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "promotions"
    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

extension EnvironmentStepRecord: FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "environment_steps"
    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

// The keys `StoreTransaction.insert`, `upsert` and `update` write by (the schema's primary keys).
extension RunRecord: IdentifiedRecord {}
extension PromotionRecord: IdentifiedRecord {}
extension EnvironmentStepRecord: IdentifiedRecord {}
extension StageResultRecord: StoredRecord { static var primaryKey: [String] { ["runId", "stage"] } }
extension ArtifactRecord: StoredRecord { static var primaryKey: [String] { ["runId", "stage", "path"] } }
extension ReportRecord: StoredRecord { static var primaryKey: [String] { ["runId", "stage", "kind"] } }
extension ModelVersionRecord: StoredRecord { static var primaryKey: [String] { ["model", "version"] } }
