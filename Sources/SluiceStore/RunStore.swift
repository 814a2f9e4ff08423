public import SluiceCore
import FoundationEssentials
import GRDB
import Synchronization

/// The run store: runs, stage results, artifacts and reports, in the state folder's SQLite
/// file (`<state>/sluice.sqlite`, WAL) or in a PostgreSQL database (`SLUICE_DATABASE_URL`)
/// that several controllers share. Every write is its own transaction and is on disk before
/// the call returns, so the next step never starts before the last is recorded.
public final class RunStore: Sendable {
    /// The store's file in a state folder.
    public static let fileName = "sluice.sqlite"
    /// Where the rows are: the SQLite file's path, or the PostgreSQL URL without its password.
    public let path: String
    /// The folder the store lives in (its artifacts are under `cas/`, its stage logs under `logs/`).
    public let stateDirectory: String
    /// The stage outputs the runs name, by digest (`cas/`, and a bucket when configured).
    public let artifactStore: ArtifactStore
    let database: any StoreDatabase
    /// This process's leadership term, when it leads a Lease (see `LeadershipTerm`).
    let fence = Mutex<Fence>(.unfenced)

    public struct StoreError: Error, Sendable, CustomStringConvertible {
        public var description: String

        public init(description: String) {
            self.description = description
        }
    }

    /// Opens (creating and migrating as needed) the store: `database`'s PostgreSQL when given,
    /// else the state folder's SQLite file.
    public init(stateDirectory: String, database: DatabaseSettings? = nil, remoteArtifacts: (any RemoteBlobStore)? = nil) throws(StoreError) {
        self.stateDirectory = stateDirectory
        artifactStore = ArtifactStore(stateDirectory: stateDirectory, remote: remoteArtifacts)
        let location = database?.redacted ?? stateDirectory + "/" + Self.fileName
        path = location
        do {
            if let database {
                self.database = try PostgresStoreDatabase(settings: database)
            } else {
                self.database = try SQLiteStoreDatabase(path: location, stateDirectory: stateDirectory)
            }
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError(description: "cannot open the run store at \(location): \(error)")
        }
    }

    func write<T>(_ body: (any StoreTransaction) throws -> T) throws(StoreError) -> T {
        do { return try database.write(body) } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError(description: "run store write failed (\(path)): \(error)")
        }
    }

    func read<T>(_ body: (any StoreTransaction) throws -> T) throws(StoreError) -> T {
        do { return try database.read(body) } catch {
            throw StoreError(description: "run store read failed (\(path)): \(error)")
        }
    }

    // MARK: runs

    public func insert(_ run: RunRecord, stages: [StageResultRecord]) throws(StoreError) -> RunRecord {
        try write { db in
            var run = run
            try db.insert(&run)
            for var s in stages {
                s.runId = run.id!
                try db.insert(s)
            }
            return run
        }
    }

    public func run(_ id: Int64) throws(StoreError) -> RunRecord? {
        try read { try $0.fetchOne(RunRecord.self, "SELECT * FROM runs WHERE id = ?", [id]) }
    }

    public func runs(repository: String? = nil, limit: Int = 50) throws(StoreError) -> [RunRecord] {
        try read { db in
            if let repository {
                return try db.fetchAll(RunRecord.self, "SELECT * FROM runs WHERE repository = ? ORDER BY id DESC LIMIT ?", [repository, limit])
            }
            return try db.fetchAll(RunRecord.self, "SELECT * FROM runs ORDER BY id DESC LIMIT ?", [limit])
        }
    }

    public func queuedRuns(repository: String) throws(StoreError) -> [RunRecord] {
        try read { db in
            try db.fetchAll(RunRecord.self, "SELECT * FROM runs WHERE repository = ? AND status = ? ORDER BY id",
                            [repository, RunStatus.queued.rawValue])
        }
    }

    /// Runs recorded as running (by this process or another, live or dead).
    public func runningRuns() throws(StoreError) -> [RunRecord] {
        try read { db in try db.fetchAll(RunRecord.self, "SELECT * FROM runs WHERE status = ? ORDER BY id", [RunStatus.running.rawValue]) }
    }

    /// Records a run's status, with the events it causes (a failure) in the same transaction.
    /// - Parameter processedRef: a ref to record as processed at the run's commit when the run
    ///   ends (not when cancelled), in the same transaction, so that no crash falls between the two
    ///   (the next leader would run the commit again). Left out when this process's leadership
    ///   term is over: the replica that leads runs the commit again.
    public func setRunStatus(_ id: Int64, _ status: RunStatus, at time: Double, message: String? = nil,
                             events: [NotificationEvent] = [], processedRef: String? = nil) throws(StoreError) {
        let fence = fence.withLock { $0 }
        try write { db in
            try Self.record(events, in: db)
            guard var run = try db.fetchOne(RunRecord.self, "SELECT * FROM runs WHERE id = ?", [id]) else { return }
            run.status = status
            if status == .running, run.startedAt == nil { run.startedAt = time }
            if status.isFinished { run.finishedAt = time }
            if let message { run.message = message }
            try db.update(run)
            if let ref = processedRef, status.isFinished, status != .cancelled,
               try Self.fenceRefusal(fence, act: "recording \(ref) as processed", db) == nil {
                try Self.recordProcessed(db, repository: run.repository, ref: ref, commit: run.commit, at: time)
            }
        }
    }

    // MARK: stages

    public func stages(of runID: Int64) throws(StoreError) -> [StageResultRecord] {
        try read { db in try db.fetchAll(StageResultRecord.self, "SELECT * FROM stage_results WHERE runId = ? ORDER BY stage", [runID]) }
    }

    /// How many runs each repository has in each status.
    public func runCounts() throws(StoreError) -> [(repository: String, status: String, count: Int)] {
        try read { db in
            try db.rows("SELECT repository, status, count(*) AS n FROM runs GROUP BY repository, status ORDER BY repository, status")
                .map { (repository: $0["repository"], status: $0["status"], count: $0["n"]) }
        }
    }

    /// Every stage result of every run, in one query (for `/metrics`).
    public func allStages() throws(StoreError) -> [StageResultRecord] {
        try read { db in try db.fetchAll(StageResultRecord.self, "SELECT * FROM stage_results ORDER BY runId, stage") }
    }

    /// Every report of one kind (`gate`, `deploy`, …) across runs, in one query.
    public func reports(kind: String) throws(StoreError) -> [ReportRecord] {
        try read { db in try db.fetchAll(ReportRecord.self, "SELECT * FROM reports WHERE kind = ? ORDER BY runId, stage", [kind]) }
    }

    /// The reports of one kind stored with `repository`'s runs, oldest run first.
    public func reports(kind: String, repository: String) throws(StoreError) -> [ReportRecord] {
        try read { db in
            try db.fetchAll(ReportRecord.self, """
                SELECT reports.* FROM reports JOIN runs ON runs.id = reports.runId
                WHERE reports.kind = ? AND runs.repository = ? ORDER BY reports.runId, reports.stage
                """, [kind, repository])
        }
    }

    public func update(_ stage: StageResultRecord) throws(StoreError) {
        try write { db in try db.update(stage) }
    }

    /// Records a finished stage together with its artifacts and reports, atomically:
    /// either all of it is stored or none.
    public func complete(_ stage: StageResultRecord, artifacts: [ArtifactRecord], reports: [ReportRecord]) throws(StoreError) {
        try write { db in
            try db.update(stage)
            for a in artifacts { try db.upsert(a) }
            for r in reports { try db.upsert(r) }
        }
    }

    /// A stage result with the outputs and reports stored with it.
    public typealias CachedResult = (stage: StageResultRecord, artifacts: [ArtifactRecord], reports: [ReportRecord], scope: String)

    /// The most recent successful result for a cache key among `repository`'s runs whose cache
    /// scope is one of `scopes` (see `CacheScope.readable`), with its artifacts and reports.
    public func cacheEntry(for key: String, repository: String, scopes: [String]) throws(StoreError) -> CachedResult? {
        try read { db in
            guard let row = try db.rows("""
                SELECT s.*, r.cacheScope AS scope FROM stage_results s JOIN runs r ON r.id = s.runId
                WHERE s.cacheKey = ? AND s.status = 'succeeded' AND r.repository = ? AND r.cacheScope IN (\(placeholders(scopes.count)))
                ORDER BY s.finishedAt DESC, s.runId DESC LIMIT 1
                """, SQLArguments([key, repository] + scopes)).first else { return nil }
            return try Self.withOutputs(StageResultRecord(row: row), scope: row["scope"], db)
        }
    }

    /// The newest successful result of a stage among `repository`'s runs in `scopes` (whatever
    /// its cache key): the outputs a skipped stage leaves in place for the stages after it.
    public func latestSuccess(repository: String, stage: String, scopes: [String]) throws(StoreError) -> CachedResult? {
        try read { db in
            guard let row = try db.rows("""
                SELECT s.*, r.cacheScope AS scope FROM stage_results s JOIN runs r ON r.id = s.runId
                WHERE r.repository = ? AND s.stage = ? AND s.status IN ('succeeded', 'cached') AND r.cacheScope IN (\(placeholders(scopes.count)))
                ORDER BY s.finishedAt DESC, s.runId DESC LIMIT 1
                """, SQLArguments([repository, stage] + scopes)).first else { return nil }
            return try Self.withOutputs(StageResultRecord(row: row), scope: row["scope"], db)
        }
    }

    private static func withOutputs(_ stage: StageResultRecord, scope: String, _ db: any StoreTransaction) throws -> CachedResult {
        let artifacts = try db.fetchAll(ArtifactRecord.self, "SELECT * FROM artifacts WHERE runId = ? AND stage = ? ORDER BY path",
                                        [stage.runId, stage.stage])
        let reports = try db.fetchAll(ReportRecord.self, "SELECT * FROM reports WHERE runId = ? AND stage = ? ORDER BY kind",
                                      [stage.runId, stage.stage])
        return (stage, artifacts, reports, scope)
    }

    /// When a stage of a repository last actually executed successfully (not restored from cache).
    public func lastExecuted(repository: String, stage: String) throws(StoreError) -> Double? {
        try read { db in
            try db.value(Double.self, """
                SELECT MAX(s.finishedAt) FROM stage_results s JOIN runs r ON r.id = s.runId
                WHERE r.repository = ? AND s.stage = ? AND s.status = 'succeeded'
                """, [repository, stage])
        }
    }

    /// Cache keys with a stored successful result that a run of `repository` in `scopes` may
    /// restore (the planner marks those stages `cached`).
    public func knownCacheKeys(repository: String, scopes: [String]) throws(StoreError) -> Set<String> {
        try read { db in
            Set(try db.values(String.self, """
                SELECT DISTINCT s.cacheKey FROM stage_results s JOIN runs r ON r.id = s.runId
                WHERE s.status = 'succeeded' AND r.repository = ? AND r.cacheScope IN (\(placeholders(scopes.count)))
                """, SQLArguments([repository] + scopes)))
        }
    }

    /// One object Sluice applied to an environment.
    public struct InventoryItem: Hashable, Sendable {
        public var apiVersion: String, kind: String, namespace: String, name: String
        public init(apiVersion: String, kind: String, namespace: String, name: String) {
            self.apiVersion = apiVersion
            self.kind = kind
            self.namespace = namespace
            self.name = name
        }
    }

    /// Whose objects an inventory lists: one repository's environment on one cluster.
    public struct InventoryScope: Hashable, Sendable {
        public var repository: String, cluster: String, environment: String
        public init(repository: String, cluster: String, environment: String) {
            self.repository = repository
            self.cluster = cluster
            self.environment = environment
        }
    }

    public func inventory(_ scope: InventoryScope) throws(StoreError) -> [InventoryItem] {
        try read { db in
            try db.rows("""
                SELECT apiVersion, kind, namespace, name FROM deploy_inventory WHERE repository = ? AND cluster = ? AND environment = ?
                ORDER BY kind, namespace, name, apiVersion
                """, [scope.repository, scope.cluster, scope.environment]).map {
                InventoryItem(apiVersion: $0["apiVersion"], kind: $0["kind"], namespace: $0["namespace"], name: $0["name"])
            }
        }
    }

    /// Replaces one scope's inventory in one transaction; what was recorded as applied for an
    /// object that stays is kept.
    public func setInventory(_ items: [InventoryItem], _ scope: InventoryScope) throws(StoreError) {
        try write { db in
            let wanted = Set(items)
            for row in try db.rows("""
                SELECT apiVersion, kind, namespace, name FROM deploy_inventory WHERE repository = ? AND cluster = ? AND environment = ?
                """, [scope.repository, scope.cluster, scope.environment]) {
                let item = InventoryItem(apiVersion: row["apiVersion"], kind: row["kind"], namespace: row["namespace"], name: row["name"])
                guard !wanted.contains(item) else { continue }
                try db.execute("""
                    DELETE FROM deploy_inventory WHERE repository = ? AND cluster = ? AND environment = ? AND apiVersion = ? AND kind = ?
                    AND namespace = ? AND name = ?
                    """, [scope.repository, scope.cluster, scope.environment, item.apiVersion, item.kind, item.namespace, item.name])
            }
            for i in items {
                try db.execute("""
                    INSERT INTO deploy_inventory (repository, cluster, environment, apiVersion, kind, namespace, name)
                    VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING
                    """, [scope.repository, scope.cluster, scope.environment, i.apiVersion, i.kind, i.namespace, i.name])
            }
        }
    }

    /// Stores (or replaces) one report of a run, e.g. the gate report.
    public func saveReport(_ report: ReportRecord) throws(StoreError) {
        try write { db in try db.upsert(report) }
    }

    /// Each stored output once (by digest), whichever runs name it.
    public func distinctArtifacts() throws(StoreError) -> [ArtifactRecord] {
        try read { db in
            // The first record of each digest, by run, stage and path.
            try db.fetchAll(ArtifactRecord.self, """
                SELECT * FROM artifacts a WHERE NOT EXISTS (
                  SELECT 1 FROM artifacts b WHERE b.digest = a.digest AND (b.runId, b.stage, b.path) < (a.runId, a.stage, a.path))
                ORDER BY runId, stage, path
                """)
        }
    }

    public func artifacts(of runID: Int64) throws(StoreError) -> [ArtifactRecord] {
        try read { db in try db.fetchAll(ArtifactRecord.self, "SELECT * FROM artifacts WHERE runId = ? ORDER BY stage, path", [runID]) }
    }

    public func reports(of runID: Int64) throws(StoreError) -> [ReportRecord] {
        try read { db in try db.fetchAll(ReportRecord.self, "SELECT * FROM reports WHERE runId = ? ORDER BY stage, kind", [runID]) }
    }

    /// One kind of a run's reports (a run's plot data can be large: read only what is asked).
    public func reports(of runID: Int64, kind: String) throws(StoreError) -> [ReportRecord] {
        try read { db in try db.fetchAll(ReportRecord.self, "SELECT * FROM reports WHERE runId = ? AND kind = ? ORDER BY stage", [runID, kind]) }
    }

    /// The runs that have a report of `kind`, without reading the reports.
    public func runIDs(withReport kind: String) throws(StoreError) -> Set<Int64> {
        try read { db in Set(try db.values(Int64.self, "SELECT runId FROM reports WHERE kind = ?", [kind])) }
    }
}
