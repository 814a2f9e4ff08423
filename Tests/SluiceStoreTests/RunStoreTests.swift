import SluiceCore
import Foundation
import Testing
import SluiceTestSupport
@testable import SluiceStore

@Suite struct RunStoreTests {
    func newRun(_ store: RunStore, commit: String = "c1", stages: [String] = ["a", "b"]) throws -> RunRecord {
        try store.insert(RunRecord(repository: "/repo", ref: "refs/heads/main", commit: commit, baseCommit: nil, trigger: "commit", createdAt: 1),
                         stages: stages.map { StageResultRecord(runId: 0, stage: $0, status: .pending, decision: "run", reasons: "every commit", cacheKey: "key-\($0)") })
    }

    @Test(arguments: Backend.allCases) func aStageAndItsArtifactsAreStoredTogether(_ backend: Backend) throws {
        let fixture = try StoreFixture(backend)
        let store = try fixture.open()
        let run = try newRun(store)
        var a = try #require(try store.stages(of: run.id!).first { $0.stage == "a" })
        a.status = .succeeded
        a.finishedAt = 5
        let artifact = ArtifactRecord(runId: run.id!, stage: "a", path: "model/", digest: "sha256:00", kind: .directory, size: 3,
                                      cacheKey: "key-a", commit: "c1", lineage: "{}", createdAt: 5)
        try store.complete(a, artifacts: [artifact], reports: [ReportRecord(runId: run.id!, stage: "a", kind: "metrics", path: "m.json", content: "{}")])
        let entry = try #require(try store.cacheEntry(for: "key-a", repository: "/repo", scopes: ["production"]))
        #expect(entry.artifacts == [artifact])
        #expect(entry.reports.count == 1)
        #expect(entry.scope == "production")
        #expect(try store.knownCacheKeys(repository: "/repo", scopes: ["production"]) == ["key-a"])
        #expect(try store.cacheEntry(for: "key-b", repository: "/repo", scopes: ["production"]) == nil)
        // Another repository, or a scope the run may not read, does not see it.
        #expect(try store.cacheEntry(for: "key-a", repository: "/other", scopes: ["production"]) == nil)
        #expect(try store.knownCacheKeys(repository: "/repo", scopes: ["merge-request/3"]).isEmpty)
        if backend == .sqlite {
            // WAL mode is on.
            let mode = try store.read { try $0.value(String.self, "PRAGMA journal_mode") }
            #expect(mode == "wal")
        }
    }

    @Test(arguments: Backend.allCases) func interruptedRunsAreMarkedAndRetriedOnceKeepingFinishedStages(_ backend: Backend) throws {
        let fixture = try StoreFixture(backend)
        let store = try fixture.open()
        let live = try newRun(store)
        let dead = try newRun(store, commit: "c2")
        // A dead run of the commit `live` runs, and one of a commit processed since: nothing to retry.
        let doubled = try newRun(store), done = try newRun(store, commit: "c3")
        _ = try store.recordProcessed(repository: "/repo", ref: "refs/heads/main", commit: "c3", at: 2)
        // Another process (another store on the same database) owns `live`.
        let owner = try fixture.open()
        let lock = try owner.claimRun(live.id!)
        for id in [live.id!, dead.id!, doubled.id!, done.id!] { try store.setRunStatus(id, .running, at: 2) }
        var stages = try store.stages(of: dead.id!)
        stages[0].status = .succeeded
        stages[1].status = .running
        stages[1].startedAt = 3
        stages[1].processGroup = 999_999
        for s in stages { try store.update(s) }

        let owned = { (id: Int64) in (try? store.isRunOwned(id)) ?? true }
        let recovered = try store.recoverInterrupted(isOwned: owned, now: 10)
        #expect(recovered.map(\.run.id) == [dead.id, doubled.id, done.id] && recovered.map { $0.retry == nil } == [false, true, true])
        #expect(recovered[1].said == "run \(doubled.id!) (c1) was interrupted by a crash; not retried: run \(live.id!) has this commit")
        #expect(try store.run(dead.id!)?.status == .interrupted)
        #expect(try store.run(doubled.id!)?.message?.hasSuffix("not retried: run \(live.id!) has this commit") == true)
        #expect(try store.run(done.id!)?.message?.hasSuffix("not retried: another run finished this commit on refs/heads/main meanwhile") == true)
        #expect(try store.run(live.id!)?.status == .running)
        let after = try store.stages(of: dead.id!).sorted { $0.stage < $1.stage }
        #expect(after.map(\.status) == [.succeeded, .interrupted])
        let retry = try #require(recovered.first?.retry)
        #expect(retry.retryOf == dead.id)
        #expect(retry.status == .queued)
        #expect(try store.stages(of: retry.id!).map(\.status) == [.pending, .pending])
        // A second start finds nothing more to recover: no duplicate retries.
        #expect(try store.recoverInterrupted(isOwned: owned, now: 11).isEmpty)
        withExtendedLifetime(lock) {}
    }

    /// A run queued by a controller that stopped before it claimed it is recovered by the next
    /// controller (queued before it began, held by nobody); one queued since, or held, is not.
    @Test(arguments: Backend.allCases) func aQueuedRunItsControllerLeftIsRecovered(_ backend: Backend) throws {
        let fixture = try StoreFixture(backend)
        let store = try fixture.open()
        let left = try newRun(store), held = try newRun(store, commit: "c2"), other = try newRun(store, commit: "c3")
        let owner = try fixture.open()
        let lock = try owner.claimRun(held.id!)
        let owned = { (id: Int64) in id == held.id! }
        // All three were queued at 1; the controller began at 5.
        #expect(try store.queuedRuns(before: 5).map(\.id) == [left.id, held.id, other.id])
        #expect(try store.recoverInterrupted(isOwned: owned, queuedBefore: 1, now: 6).isEmpty, "nothing was queued before 1")
        #expect(try store.recoverInterrupted(isOwned: owned, now: 6).isEmpty, "a command leaves the queue alone")
        let recovered = try store.recoverInterrupted(isOwned: owned, queuedBefore: 5, now: 6)
        #expect(recovered.map(\.run.id) == [left.id, other.id] && recovered.allSatisfy { $0.retry?.status == .queued })
        #expect(try store.run(held.id!)?.status == .queued)
        // The retries are queued retries: never taken for left behind.
        #expect(try store.queuedRuns(before: 100).map(\.id) == [held.id])
        withExtendedLifetime(lock) {}
    }

    /// A run (or a stage's inputs) is held by one process until it lets go, or dies: on SQLite
    /// a lock file of the state folder, on PostgreSQL an advisory lock another replica sees.
    @Test(arguments: Backend.allCases) func aRunLockIsHeldUntilItsOwnerLetsGo(_ backend: Backend) throws {
        let fixture = try StoreFixture(backend)
        let mine = try fixture.open(), theirs = try fixture.open()
        let id = try newRun(mine).id!
        var lock: HeldLock? = try mine.claimRun(id)
        #expect(try theirs.isRunOwned(id) && mine.isRunOwned(id))
        #expect(try mine.tryLock(.run(id)) == nil)  // held once, even by its own process
        #expect(try !theirs.isRunOwned(id + 1))
        #expect(throws: RunStore.StoreError.self) { _ = try theirs.claimRun(id) }
        var inputs = try theirs.tryLock(.stageInputs(repository: "iris", cacheKey: "k"))
        #expect(inputs != nil)
        #expect(try mine.tryLock(.stageInputs(repository: "iris", cacheKey: "k")) == nil)
        #expect(try mine.tryLock(.stageInputs(repository: "iris", cacheKey: "other")) != nil)
        lock = nil
        inputs = nil
        #expect(try !theirs.isRunOwned(id))
        #expect(try theirs.claimRun(id).name == .run(id))
        #expect(try mine.tryLock(.stageInputs(repository: "iris", cacheKey: "k")) != nil)
        _ = (lock, inputs)
    }

    /// A run another controller took over while this one was paused between queuing and claiming
    /// it (recovered as left behind: interrupted and retried) is refused, with the reason; the
    /// retry is claimed as any queued run.
    @Test(arguments: Backend.allCases) func aRunAnotherControllerRecoveredIsNotClaimed(_ backend: Backend) throws {
        let fixture = try StoreFixture(backend)
        let paused = try fixture.open(), leader = try fixture.open()
        let queued = try newRun(paused)
        let recovered = try leader.recoverInterrupted(isOwned: { _ in false }, queuedBefore: 5, now: 6)
        let retry = try #require(recovered.first?.retry)
        do {
            _ = try paused.claimRun(queued.id!)
            Issue.record("a run recovered by another controller was claimed")
        } catch {
            #expect(error.description.contains("run \(queued.id!) is interrupted, not queued: another controller took it over"), "\(error)")
        }
        #expect(try !leader.isRunOwned(queued.id!), "the refused claim let go of the run")
        #expect(try paused.claimRun(retry.id!).name == .run(retry.id!))
        #expect(try paused.run(queued.id!)?.status == .interrupted)
    }

    /// A lock session cut from the database (its backend terminated, as a network cut or a
    /// server restart would) loses its locks; the process takes them again on its next lock.
    @Test func aPostgresLockSessionThatEndsTakesItsLocksAgain() throws {
        let fixture = try StoreFixture(.postgres)
        let mine = try fixture.open(), theirs = try fixture.open()
        let server = try #require(fixture.server), database = try #require(fixture.database)
        let id = try newRun(mine).id!
        let lock = try mine.claimRun(id)
        let ended = try server.psql("""
            SELECT count(pg_terminate_backend(pid, 10000)) FROM pg_locks WHERE locktype = 'advisory' AND objid = \(id) AND objsubid = 2
            """, database: database.database)
        #expect(ended.trimmingCharacters(in: .whitespacesAndNewlines) == "1")
        #expect(try !theirs.isRunOwned(id))
        #expect(try mine.tryLock(.stageInputs(repository: "iris", cacheKey: "next stage")) != nil)
        #expect(try theirs.isRunOwned(id))
        #expect(throws: RunStore.StoreError.self) { _ = try theirs.claimRun(id) }
        withExtendedLifetime(lock) {}
    }

    /// The lock session is named for operators, and asks the server for TCP keep-alives after
    /// 5 s idle, 3 probes 2 s apart (the kernel's default is two hours): the server ends the
    /// session of a replica cut off by the network, and frees its locks, in about 11 s.
    @Test func thePostgresLockSessionIsKeptAliveBriefly() throws {
        let fixture = try StoreFixture(.postgres)
        let store = try fixture.open()
        let server = try #require(fixture.server), database = try #require(fixture.database)
        let id = try newRun(store).id!
        let lock = try store.claimRun(id)
        let holder = try server.psql("""
            SELECT application_name FROM pg_stat_activity WHERE datname = current_database()
              AND pid IN (SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND objid = \(id) AND objsubid = 2)
            """, database: database.database)
        #expect(holder == "sluice locks\n", "the lock session, by its name: '\(holder)'")
        let session = try #require(store.database as? PostgresStoreDatabase).locks
        let settings = try ["tcp_keepalives_idle", "tcp_keepalives_interval", "tcp_keepalives_count"].map { try session.setting($0) }
        #expect(settings == ["5", "2", "3"], "seconds, seconds, probes (0 would be the kernel's defaults): \(settings)")
        withExtendedLifetime(lock) {}
    }
}

@Suite struct PromotionLogTests {
    @Test(arguments: Backend.allCases) func thePromotionLogIsAppendOnlyAndGuardsConcurrentPromotions(_ backend: Backend) throws {
        let fixture = try StoreFixture(backend)
        let store = try fixture.open()
        let entry = PromotionRecord(model: "m", version: "1", action: .promote, commit: "c1", runId: nil, previousVersion: nil,
                                    actor: "t", reason: "r", createdAt: 1)
        #expect(try store.appendPromotion(entry, expectedVersion: nil) == .appended)
        // A second candidate that saw "no production" loses the race.
        var late = entry
        late.version = "2"
        #expect(try store.appendPromotion(late, expectedVersion: nil) == .productionMoved)
        #expect(try store.appendPromotion(late, expectedVersion: "1") == .appended)
        // The database refuses rewrites, and says so (PostgreSQL's message is not hidden by the client).
        #expect { try store.write { try $0.execute("UPDATE promotions SET reason = 'rewritten'") } } throws: {
            "\($0)".contains("the promotion log is append-only")
        }
        #expect { try store.write { try $0.execute("DELETE FROM promotions") } } throws: { "\($0)".contains("the promotion log is append-only") }
        #expect(try store.promotions(model: "m").map(\.version) == ["1", "2"])
    }

    /// Two replicas on one store: each start of leading is a new term, and a replica whose term
    /// is over (another started one, or it lost the Lease) promotes nothing, records no ref as
    /// processed and is refused every act outside; a process without a Lease is never fenced.
    @Test(arguments: Backend.allCases) func aReplicaWhoseTermIsOverIsRefused(_ backend: Backend) throws {
        let fixture = try StoreFixture(backend)
        let (a, b, command) = (try fixture.open(), try fixture.open(), try fixture.open())
        let lease = "sluice-system/sluice-leader"
        a.follow(lease: lease)
        #expect(try a.fenceRefusal("deploying") == "deploying refused: this replica does not lead lease \(lease); the replica that leads does it")
        #expect(try a.beginTerm(lease: lease, holder: "replica-a", at: 1).number == 1)
        let entry = PromotionRecord(model: "m", version: "1", action: .promote, commit: "c1", runId: nil, previousVersion: nil,
                                    actor: "t", reason: "r", createdAt: 1)
        #expect(try a.appendPromotion(entry, expectedVersion: nil) == .appended)

        #expect(try b.beginTerm(lease: lease, holder: "replica-b", at: 2).number == 2)
        var next = entry
        next.version = "2"
        #expect(try a.appendPromotion(next, expectedVersion: "1")
                == .fenced("promoting m version 2 refused: replica-a's term 1 of lease \(lease) is over; replica-b leads in term 2"))
        #expect(throws: RunStore.StoreError.self) { try a.recordProcessed(repository: "iris", ref: "refs/heads/main", commit: "c2", at: 2) }
        #expect(throws: RunStore.StoreError.self) { try a.requireLeadership(for: "posting a status") }
        #expect(try b.appendPromotion(next, expectedVersion: "1") == .appended)
        try b.recordProcessed(repository: "iris", ref: "refs/heads/main", commit: "c2", at: 2)

        b.endTerm()  // a renewal failed: nothing more, even before another replica leads
        #expect(try b.fenceRefusal("deploying") == "deploying refused: replica-b's term 2 of lease \(lease) ended (the Lease was lost); the replica that leads now does it")
        #expect(try command.fenceRefusal("promoting") == nil)
        next.version = "3"
        #expect(try command.appendPromotion(next, expectedVersion: "2") == .appended)
        #expect(try a.promotions(model: "m").map(\.version) == ["1", "2", "3"])
    }
}
