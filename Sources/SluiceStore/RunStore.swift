import SluiceCore
import FoundationEssentials
import GRDB

/// The run store: runs, stage results, artifacts and reports in one SQLite file
/// (`<state>/sluice.sqlite`, WAL). Every write is its own transaction and is on disk
/// before the call returns, so the next step never starts before the last is recorded.
public final class RunStore: Sendable {
    /// The store's file in a state folder.
    public static let fileName = "sluice.sqlite"
    public let path: String
    /// The folder the store lives in (its artifacts are under `cas/`).
    public let stateDirectory: String
    /// The stage outputs the runs name, by digest (`cas/`, and a bucket when configured).
    public let artifactStore: ArtifactStore
    let pool: DatabasePool

    public struct StoreError: Error, Sendable, CustomStringConvertible {
        public var description: String

        public init(description: String) {
            self.description = description
        }
    }

    public init(stateDirectory: String, remoteArtifacts: (any RemoteBlobStore)? = nil) throws(StoreError) {
        path = stateDirectory + "/" + Self.fileName
        self.stateDirectory = stateDirectory
        artifactStore = ArtifactStore(stateDirectory: stateDirectory, remote: remoteArtifacts)
        do {
            try FileManager.default.createDirectory(atPath: stateDirectory, withIntermediateDirectories: true)
            var configuration = Configuration()
            configuration.busyMode = .timeout(10)
            configuration.prepareDatabase { db in
                // WAL is DatabasePool's default; FULL makes each commit durable across power loss too.
                try db.execute(sql: "PRAGMA synchronous = FULL")
            }
            // Two processes opening a new state folder at once: one migrates, the other waits.
            let lock = try MigrationLock(stateDirectory: stateDirectory)
            pool = try DatabasePool(path: path, configuration: configuration)
            try Self.migrator.migrate(pool)
            withExtendedLifetime(lock) {}
        } catch {
            throw StoreError(description: "cannot open the run store at \(path): \(error)")
        }
    }

    func write<T>(_ body: (Database) throws -> T) throws(StoreError) -> T {
        do { return try pool.write(body) } catch {
            throw StoreError(description: "run store write failed (\(path)): \(error)")
        }
    }

    func read<T>(_ body: (Database) throws -> T) throws(StoreError) -> T {
        do { return try pool.read(body) } catch {
            throw StoreError(description: "run store read failed (\(path)): \(error)")
        }
    }

    // MARK: runs

    public func insert(_ run: RunRecord, stages: [StageResultRecord]) throws(StoreError) -> RunRecord {
        try write { db in
            var run = run
            try run.insert(db)
            for var s in stages {
                s.runId = run.id!
                try s.insert(db)
            }
            return run
        }
    }

    public func run(_ id: Int64) throws(StoreError) -> RunRecord? {
        try read { try RunRecord.fetchOne($0, key: id) }
    }

    public func runs(repository: String? = nil, limit: Int = 50) throws(StoreError) -> [RunRecord] {
        try read { db in
            var request = RunRecord.order(Column("id").desc).limit(limit)
            if let repository { request = request.filter(Column("repository") == repository) }
            return try request.fetchAll(db)
        }
    }

    public func queuedRuns(repository: String) throws(StoreError) -> [RunRecord] {
        try read { db in
            try RunRecord.filter(Column("repository") == repository && Column("status") == RunStatus.queued.rawValue)
                .order(Column("id")).fetchAll(db)
        }
    }

    /// Runs recorded as running (by this process or another, live or dead).
    public func runningRuns() throws(StoreError) -> [RunRecord] {
        try read { db in try RunRecord.filter(Column("status") == RunStatus.running.rawValue).order(Column("id")).fetchAll(db) }
    }

    /// Records a run's status, with the events it causes (a failure) in the same transaction.
    public func setRunStatus(_ id: Int64, _ status: RunStatus, at time: Double, message: String? = nil,
                             events: [NotificationEvent] = []) throws(StoreError) {
        try write { db in
            try Self.record(events, in: db)
            guard var run = try RunRecord.fetchOne(db, key: id) else { return }
            run.status = status
            if status == .running, run.startedAt == nil { run.startedAt = time }
            if status.isFinished { run.finishedAt = time }
            if let message { run.message = message }
            try run.update(db)
        }
    }

    // MARK: stages

    public func stages(of runID: Int64) throws(StoreError) -> [StageResultRecord] {
        try read { db in try StageResultRecord.filter(Column("runId") == runID).fetchAll(db) }
    }

    /// How many runs each repository has in each status.
    public func runCounts() throws(StoreError) -> [(repository: String, status: String, count: Int)] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT repository, status, count(*) AS n FROM runs GROUP BY repository, status ORDER BY repository, status")
                .map { (repository: $0["repository"], status: $0["status"], count: $0["n"]) }
        }
    }

    /// Every stage result of every run, in one query (for `/metrics`).
    public func allStages() throws(StoreError) -> [StageResultRecord] {
        try read { db in try StageResultRecord.fetchAll(db) }
    }

    /// Every report of one kind (`gate`, `deploy`, …) across runs, in one query.
    public func reports(kind: String) throws(StoreError) -> [ReportRecord] {
        try read { db in try ReportRecord.filter(Column("kind") == kind).order(Column("runId")).fetchAll(db) }
    }

    /// The reports of one kind stored with `repository`'s runs, oldest run first.
    public func reports(kind: String, repository: String) throws(StoreError) -> [ReportRecord] {
        try read { db in
            try ReportRecord.fetchAll(db, sql: """
                SELECT reports.* FROM reports JOIN runs ON runs.id = reports.runId
                WHERE reports.kind = ? AND runs.repository = ? ORDER BY reports.runId
                """, arguments: [kind, repository])
        }
    }

    public func update(_ stage: StageResultRecord) throws(StoreError) {
        try write { db in try stage.update(db) }
    }

    /// Records a finished stage together with its artifacts and reports, atomically:
    /// either all of it is stored or none.
    public func complete(_ stage: StageResultRecord, artifacts: [ArtifactRecord], reports: [ReportRecord]) throws(StoreError) {
        try write { db in
            try stage.update(db)
            for a in artifacts { try a.insert(db, onConflict: .replace) }
            for r in reports { try r.insert(db, onConflict: .replace) }
        }
    }

    /// A stage result with the outputs and reports stored with it.
    public typealias CachedResult = (stage: StageResultRecord, artifacts: [ArtifactRecord], reports: [ReportRecord], scope: String)

    /// The most recent successful result for a cache key among `repository`'s runs whose cache
    /// scope is one of `scopes` (see `CacheScope.readable`), with its artifacts and reports.
    public func cacheEntry(for key: String, repository: String, scopes: [String]) throws(StoreError) -> CachedResult? {
        try read { db in
            let marks = scopes.map { _ in "?" }.joined(separator: ", ")
            guard let row = try Row.fetchOne(db, sql: """
                SELECT s.*, r.cacheScope AS scope FROM stage_results s JOIN runs r ON r.id = s.runId
                WHERE s.cacheKey = ? AND s.status = 'succeeded' AND r.repository = ? AND r.cacheScope IN (\(marks))
                ORDER BY s.finishedAt DESC LIMIT 1
                """, arguments: StatementArguments([key, repository] + scopes)) else { return nil }
            return try Self.withOutputs(StageResultRecord(row: row), scope: row["scope"], db)
        }
    }

    /// The newest successful result of a stage among `repository`'s runs in `scopes` (whatever
    /// its cache key): the outputs a skipped stage leaves in place for the stages after it.
    public func latestSuccess(repository: String, stage: String, scopes: [String]) throws(StoreError) -> CachedResult? {
        try read { db in
            let marks = scopes.map { _ in "?" }.joined(separator: ", ")
            guard let row = try Row.fetchOne(db, sql: """
                SELECT s.*, r.cacheScope AS scope FROM stage_results s JOIN runs r ON r.id = s.runId
                WHERE r.repository = ? AND s.stage = ? AND s.status IN ('succeeded', 'cached') AND r.cacheScope IN (\(marks))
                ORDER BY s.finishedAt DESC LIMIT 1
                """, arguments: StatementArguments([repository, stage] + scopes)) else { return nil }
            return try Self.withOutputs(StageResultRecord(row: row), scope: row["scope"], db)
        }
    }

    private static func withOutputs(_ stage: StageResultRecord, scope: String, _ db: Database) throws -> CachedResult {
        let artifacts = try ArtifactRecord.filter(Column("runId") == stage.runId && Column("stage") == stage.stage).fetchAll(db)
        let reports = try ReportRecord.filter(Column("runId") == stage.runId && Column("stage") == stage.stage).fetchAll(db)
        return (stage, artifacts, reports, scope)
    }

    /// When a stage of a repository last actually executed successfully (not restored from cache).
    public func lastExecuted(repository: String, stage: String) throws(StoreError) -> Double? {
        try read { db in
            try Double.fetchOne(db, sql: """
                SELECT MAX(s.finishedAt) FROM stage_results s JOIN runs r ON r.id = s.runId
                WHERE r.repository = ? AND s.stage = ? AND s.status = 'succeeded'
                """, arguments: [repository, stage])
        }
    }

    /// Cache keys with a stored successful result that a run of `repository` in `scopes` may
    /// restore (the planner marks those stages `cached`).
    public func knownCacheKeys(repository: String, scopes: [String]) throws(StoreError) -> Set<String> {
        try read { db in
            let marks = scopes.map { _ in "?" }.joined(separator: ", ")
            return Set(try String.fetchAll(db, sql: """
                SELECT DISTINCT s.cacheKey FROM stage_results s JOIN runs r ON r.id = s.runId
                WHERE s.status = 'succeeded' AND r.repository = ? AND r.cacheScope IN (\(marks))
                """, arguments: StatementArguments([repository] + scopes)))
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
            try Row.fetchAll(db, sql: """
                SELECT apiVersion, kind, namespace, name FROM deploy_inventory WHERE repository = ? AND cluster = ? AND environment = ?
                ORDER BY kind, namespace, name
                """, arguments: [scope.repository, scope.cluster, scope.environment]).map {
                InventoryItem(apiVersion: $0["apiVersion"], kind: $0["kind"], namespace: $0["namespace"], name: $0["name"])
            }
        }
    }

    /// Replaces one scope's inventory in one transaction; what was recorded as applied for an
    /// object that stays is kept.
    public func setInventory(_ items: [InventoryItem], _ scope: InventoryScope) throws(StoreError) {
        try write { db in
            let wanted = Set(items)
            for row in try Row.fetchAll(db, sql: """
                SELECT apiVersion, kind, namespace, name FROM deploy_inventory WHERE repository = ? AND cluster = ? AND environment = ?
                """, arguments: [scope.repository, scope.cluster, scope.environment]) {
                let item = InventoryItem(apiVersion: row["apiVersion"], kind: row["kind"], namespace: row["namespace"], name: row["name"])
                guard !wanted.contains(item) else { continue }
                try db.execute(sql: """
                    DELETE FROM deploy_inventory WHERE repository = ? AND cluster = ? AND environment = ? AND apiVersion = ? AND kind = ?
                    AND namespace = ? AND name = ?
                    """, arguments: [scope.repository, scope.cluster, scope.environment, item.apiVersion, item.kind, item.namespace, item.name])
            }
            for i in items {
                try db.execute(sql: """
                    INSERT OR IGNORE INTO deploy_inventory (repository, cluster, environment, apiVersion, kind, namespace, name)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    """, arguments: [scope.repository, scope.cluster, scope.environment, i.apiVersion, i.kind, i.namespace, i.name])
            }
        }
    }

    /// Stores (or replaces) one report of a run, e.g. the gate report.
    public func saveReport(_ report: ReportRecord) throws(StoreError) {
        try write { db in try report.insert(db, onConflict: .replace) }
    }

    /// Each stored output once (by digest), whichever runs name it.
    public func distinctArtifacts() throws(StoreError) -> [ArtifactRecord] {
        try read { db in try ArtifactRecord.fetchAll(db, sql: "SELECT * FROM artifacts GROUP BY digest ORDER BY min(rowid)") }
    }

    public func artifacts(of runID: Int64) throws(StoreError) -> [ArtifactRecord] {
        try read { db in try ArtifactRecord.filter(Column("runId") == runID).order(Column("stage"), Column("path")).fetchAll(db) }
    }

    public func reports(of runID: Int64) throws(StoreError) -> [ReportRecord] {
        try read { db in try ReportRecord.filter(Column("runId") == runID).fetchAll(db) }
    }

    /// One kind of a run's reports (a run's plot data can be large: read only what is asked).
    public func reports(of runID: Int64, kind: String) throws(StoreError) -> [ReportRecord] {
        try read { db in try ReportRecord.filter(Column("runId") == runID && Column("kind") == kind).fetchAll(db) }
    }

    /// The runs that have a report of `kind`, without reading the reports.
    public func runIDs(withReport kind: String) throws(StoreError) -> Set<Int64> {
        try read { db in Set(try Int64.fetchAll(db, ReportRecord.select(Column("runId")).filter(Column("kind") == kind))) }
    }

    // MARK: recovery

    /// A run left `queued` or `running` by a controller that is gone.
    public struct Interrupted: Sendable {
        public var run: RunRecord
        public var retry: RunRecord
    }

    /// Marks runs whose owner is gone (`isOwned` false) as interrupted, keeps every
    /// completed stage result, and queues one retry per interrupted run.
    /// Runs of one commit interrupted this many times are not retried automatically.
    public static let crashLoopLimit = 3

    /// How many runs of `commit` on `ref` were interrupted (the controller died while running them).
    public func interruptions(repository: String, commit: String, ref: String?) throws(StoreError) -> Int {
        try read { db in try Self.interruptions(db, repository: repository, commit: commit, ref: ref) }
    }

    static func interruptions(_ db: Database, repository: String, commit: String, ref: String?) throws -> Int {
        try Int.fetchOne(db, sql: "SELECT count(*) FROM runs WHERE repository = ? AND \"commit\" = ? AND ref IS ? AND status = ?",
                         arguments: [repository, commit, ref, RunStatus.interrupted.rawValue]) ?? 0
    }

    public func recoverInterrupted(isOwned: (Int64) -> Bool, now: Double) throws(StoreError) -> [Interrupted] {
        try write { db in
            let open = try RunRecord.filter([RunStatus.queued.rawValue, RunStatus.running.rawValue].contains(Column("status"))).fetchAll(db)
            var result: [Interrupted] = []
            for var run in open where run.status == .running && !isOwned(run.id!) {
                let stages = try StageResultRecord.filter(Column("runId") == run.id!).fetchAll(db)
                for var s in stages where !s.status.isFinished {
                    s.status = .interrupted
                    s.finishedAt = s.startedAt == nil ? nil : now
                    s.message = "the controller stopped while this stage was \(s.startedAt == nil ? "waiting" : "running")"
                    try s.update(db)
                }
                run.status = .interrupted
                run.finishedAt = now
                // A commit whose runs keep dying with the controller (a crash it causes) is not
                // retried for ever: the watcher quarantines it (see `interruptions`).
                let earlier = try Self.interruptions(db, repository: run.repository, commit: run.commit, ref: run.ref)
                guard earlier + 1 < Self.crashLoopLimit else {
                    run.message = "the controller stopped during this run \(earlier + 1) times: not retried (quarantined until a new commit or a re-run)"
                    try run.update(db)
                    continue
                }
                run.message = "the controller stopped during this run; retried as a new run"
                try run.update(db)
                var retry = RunRecord(repository: run.repository, ref: run.ref, commit: run.commit, baseCommit: run.baseCommit,
                                      trigger: "retry of interrupted run \(run.id!)", createdAt: now, retryOf: run.id)
                retry.cacheScope = run.cacheScope
                try retry.insert(db)
                for var s in stages {
                    // A Kubernetes Job outlives the controller: the retry re-attaches to the Job of a
                    // stage that was still running (kept), not of one that had finished.
                    if s.status.isFinished { s.runnerJob = nil }
                    s.runId = retry.id!
                    s.status = .pending
                    s.cacheHit = false
                    s.cachedFrom = nil
                    s.exitCode = nil; s.startedAt = nil; s.finishedAt = nil; s.logPath = nil; s.processGroup = nil; s.message = nil
                    try s.insert(db)
                }
                result.append(Interrupted(run: run, retry: retry))
            }
            return result
        }
    }
}
