import FoundationEssentials
import GRDB
public import SluiceCore

/// Recovering the runs whose owner is gone (a crash, a replica that died): each is marked
/// interrupted and, unless it keeps dying or its commit was finished elsewhere, retried as a new run.
extension RunStore {
    /// A run left `running` (or queued and never claimed) by a controller that is gone, and its
    /// retry (nil: not retried, `notRetried` says why).
    public struct Interrupted: Sendable {
        public var run: RunRecord
        public var retry: RunRecord?
        public var notRetried: String?

        /// What happened, for the log.
        public var said: String {
            let what = "run \(run.id ?? 0) (\(CommitID(run.commit).short)) was interrupted by a crash"
            guard let retry else { return what + "; " + (notRetried ?? "not retried") }
            return what + "; queued again as run \(retry.id ?? 0)"
        }
    }

    /// Runs of one commit interrupted this many times are not retried automatically.
    public static let crashLoopLimit = 3

    /// How many runs of `commit` on `ref` were interrupted (the controller died while running them).
    public func interruptions(repository: String, commit: String, ref: String?) throws(StoreError) -> Int {
        try read { db in try Self.interruptions(db, repository: repository, commit: commit, ref: ref) }
    }

    static func interruptions(_ db: any StoreTransaction, repository: String, commit: String, ref: String?) throws -> Int {
        try db.value(Int.self, "SELECT count(*) FROM runs WHERE repository = ? AND \"commit\" = ? AND ref IS NOT DISTINCT FROM ? AND status = ?",
                     [repository, commit, ref, RunStatus.interrupted.rawValue]) ?? 0
    }

    /// The queued runs, not retries, that were queued before `time`: a controller queues a run
    /// and claims it at once, so one of these that nobody holds was left by a controller that
    /// stopped in between (`recoverInterrupted(queuedBefore:)`).
    public func queuedRuns(before time: Double) throws(StoreError) -> [RunRecord] {
        try read { db in
            try db.fetchAll(RunRecord.self, "SELECT * FROM runs WHERE status = ? AND retryOf IS NULL AND createdAt < ? ORDER BY id",
                            [RunStatus.queued.rawValue, time])
        }
    }

    /// Marks runs whose owner is gone (`isOwned` false) as interrupted, keeps every
    /// completed stage result, and queues a retry of each (unless its commit keeps dying or
    /// another run has it).
    /// - Parameter queuedBefore: also recover the unheld queued runs (not retries) queued before
    ///   this time: the controller that queued one stopped before it claimed it. nil: only
    ///   running runs (a command leaves the queue to the controllers).
    public func recoverInterrupted(isOwned: (Int64) -> Bool, queuedBefore: Double? = nil, now: Double) throws(StoreError) -> [Interrupted] {
        try write { db in
            let open = try db.fetchAll(RunRecord.self, "SELECT * FROM runs WHERE status IN (?, ?) ORDER BY id",
                                       [RunStatus.queued.rawValue, RunStatus.running.rawValue])
            let orphaned = { (run: RunRecord) in
                run.status == .running || (run.retryOf == nil && queuedBefore.map { run.createdAt < $0 } == true)
            }
            var result: [Interrupted] = []
            for var run in open where orphaned(run) && !isOwned(run.id!) {
                let stages = try db.fetchAll(StageResultRecord.self, "SELECT * FROM stage_results WHERE runId = ? ORDER BY stage", [run.id!])
                for var s in stages where !s.status.isFinished {
                    s.status = .interrupted
                    s.finishedAt = s.startedAt == nil ? nil : now
                    s.message = "the controller stopped while this stage was \(s.startedAt == nil ? "waiting" : "running")"
                    try db.update(s)
                }
                run.status = .interrupted
                run.finishedAt = now
                // A commit whose runs keep dying with the controller (a crash it causes) is not
                // retried for ever: the watcher quarantines it (see `interruptions`). Nor is one the
                // replica that took over ran again while this run's owner was still alive (paused,
                // or cut off): a retry would run it a third time.
                let earlier = try Self.interruptions(db, repository: run.repository, commit: run.commit, ref: run.ref)
                let crashLooping = earlier + 1 >= Self.crashLoopLimit
                let notRetried = try crashLooping ? "not retried (quarantined until a new commit or a re-run)"
                    : Self.otherRun(db, of: run, isOwned: isOwned).map { "not retried: \($0)" }
                if let notRetried {
                    run.message = "the controller stopped during this run" + (crashLooping ? " \(earlier + 1) times" : "") + "; " + notRetried
                    try db.update(run)
                    result.append(Interrupted(run: run, retry: nil, notRetried: notRetried))
                    continue
                }
                run.message = "the controller stopped during this run; retried as a new run"
                try db.update(run)
                var retry = RunRecord(repository: run.repository, ref: run.ref, commit: run.commit, baseCommit: run.baseCommit,
                                      trigger: "retry of interrupted run \(run.id!)", createdAt: now, retryOf: run.id)
                retry.cacheScope = run.cacheScope
                try db.insert(&retry)
                for var s in stages {
                    // A Kubernetes Job outlives the controller: the retry re-attaches to the Job of a
                    // stage that was still running (kept), not of one that had finished.
                    if s.status.isFinished { s.runnerJob = nil }
                    s.runId = retry.id!
                    s.status = .pending
                    s.cacheHit = false
                    s.cachedFrom = nil
                    s.exitCode = nil; s.startedAt = nil; s.finishedAt = nil; s.logPath = nil; s.logDigest = nil; s.processGroup = nil; s.message = nil
                    try db.insert(s)
                }
                result.append(Interrupted(run: run, retry: retry, notRetried: nil))
            }
            return result
        }
    }

    /// Why another run makes a retry of `run` needless: its commit is the last one processed on
    /// its ref, or another live run (queued, or running under an owner) has it.
    private static func otherRun(_ db: any StoreTransaction, of run: RunRecord, isOwned: (Int64) -> Bool) throws -> String? {
        if let ref = run.ref,
           try db.value(String.self, "SELECT \"commit\" FROM processed_refs WHERE repository = ? AND ref = ?", [run.repository, ref]) == run.commit {
            return "another run finished this commit on \(ref) meanwhile"
        }
        let others = try db.rows("""
            SELECT id, status FROM runs WHERE repository = ? AND "commit" = ? AND ref IS NOT DISTINCT FROM ? AND id <> ? AND status IN (?, ?) ORDER BY id
            """, [run.repository, run.commit, run.ref, run.id!, RunStatus.queued.rawValue, RunStatus.running.rawValue])
        for row in others {
            let id: Int64 = row["id"], status: String = row["status"]
            if status == RunStatus.queued.rawValue || isOwned(id) { return "run \(id) has this commit" }
        }
        return nil
    }
}
