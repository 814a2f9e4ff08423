import Dispatch
import Foundation
import SluiceCore
import SluiceTestSupport
import Testing
@testable import SluiceStore

/// What every part of the run store promises, on SQLite and on PostgreSQL alike: the same calls
/// give the same answers, in the same order.
@Suite struct StoreContractTests {
    func run(_ store: RunStore, repository: String = "iris", commit: String = "c1", ref: String? = "refs/heads/main",
             stages: [String] = ["train", "evaluate"]) throws -> RunRecord {
        try store.insert(RunRecord(repository: repository, ref: ref, commit: commit, baseCommit: nil, trigger: "commit", createdAt: 1),
                         stages: stages.map { StageResultRecord(runId: 0, stage: $0, status: .pending, decision: "run", reasons: "r", cacheKey: "k-\($0)") })
    }

    @Test(arguments: Backend.allCases) func runsAreListedCountedAndTheirReportsFound(_ backend: Backend) throws {
        let fixture = try StoreFixture(backend)
        let store = try fixture.open()
        let first = try run(store), second = try run(store, commit: "c2"), other = try run(store, repository: "wine")
        #expect([first.id, second.id, other.id] == [1, 2, 3])
        #expect(try store.runs().map(\.id) == [3, 2, 1])
        #expect(try store.runs(repository: "iris", limit: 1).map(\.id) == [2])
        #expect(try store.queuedRuns(repository: "iris").map(\.id) == [1, 2])
        try store.setRunStatus(1, .running, at: 5)
        try store.setRunStatus(2, .failed, at: 6, message: "train failed")
        #expect(try store.runningRuns().map(\.id) == [1])
        let failed = try #require(try store.run(2))
        #expect(failed.status == .failed && failed.finishedAt == 6 && failed.message == "train failed")
        #expect(try store.run(99) == nil)
        let counts = try store.runCounts().map { "\($0.repository) \($0.status) \($0.count)" }
        #expect(counts == ["iris failed 1", "iris running 1", "wine queued 1"])
        #expect(try store.stages(of: 1).map(\.stage) == ["evaluate", "train"])

        try store.saveReport(ReportRecord(runId: 1, stage: "gate", kind: "gate", path: "gate.md", content: "first"))
        try store.saveReport(ReportRecord(runId: 1, stage: "gate", kind: "gate", path: "gate.md", content: "replaced"))
        try store.saveReport(ReportRecord(runId: 3, stage: "gate", kind: "gate", path: "gate.md", content: "wine's"))
        #expect(try store.reports(kind: "gate").map(\.content) == ["replaced", "wine's"])
        #expect(try store.reports(kind: "gate", repository: "iris").map(\.content) == ["replaced"])
        #expect(try store.reports(of: 1, kind: "gate").count == 1)
        #expect(try store.runIDs(withReport: "gate") == [1, 3])

        // Two runs naming one output: it is listed once, from the first.
        for id: Int64 in [2, 1] {
            var stage = try #require(try store.stages(of: id).first { $0.stage == "train" })
            stage.status = .succeeded
            stage.finishedAt = Double(id)
            try store.complete(stage, artifacts: [ArtifactRecord(runId: id, stage: "train", path: "model.bin", digest: "sha256:aa", kind: .file,
                                                                 size: 1, cacheKey: "k-train", commit: "c\(id)", lineage: "{}", createdAt: 1)],
                               reports: [])
        }
        #expect(try store.distinctArtifacts().map(\.runId) == [1])
        #expect(try store.artifacts(of: 2).map(\.path) == ["model.bin"])
        #expect(try store.lastExecuted(repository: "iris", stage: "train") == 2)
        #expect(try store.latestSuccess(repository: "iris", stage: "train", scopes: ["production"])?.stage.runId == 2)
        try store.setVerdict(1, .promote)
        #expect(try store.run(1)?.verdict == "promote")
    }

    @Test(arguments: Backend.allCases) func registryVersionsAndTheMovesTheLogDecides(_ backend: Backend) throws {
        let fixture = try StoreFixture(backend)
        let store = try fixture.open()
        for i in 1...11 {
            let v = try store.registerVersion(model: "iris", commit: "c\(i)", runId: nil, metrics: "{}", datasetVersions: "{}", artifactDigest: nil, at: Double(i))
            #expect(v.version == "\(i)")
        }
        // A version recorded elsewhere keeps its number; one already known is left as it is.
        try store.importVersion(ModelVersionRecord(model: "wine", version: "7", commit: "w", runId: nil, metrics: "{}", datasetVersions: "{}",
                                                   artifactDigest: nil, createdAt: 1))
        try store.importVersion(ModelVersionRecord(model: "wine", version: "7", commit: "other", runId: nil, metrics: "{}", datasetVersions: "{}",
                                                   artifactDigest: nil, createdAt: 2))
        #expect(try store.modelVersion(model: "wine", version: "7")?.commit == "w")
        #expect(try store.modelNames() == ["iris", "wine"])
        #expect(try store.modelVersions(model: "iris").map(\.version).suffix(2) == ["10", "11"])
        #expect(try store.registerVersion(model: "wine", commit: "w8", runId: nil, metrics: "{}", datasetVersions: "{}", artifactDigest: nil, at: 3).version == "8")

        let entry = PromotionRecord(model: "iris", version: "11", action: .promote, commit: "c11", runId: nil, previousVersion: nil, actor: "gate",
                                    reason: "better", createdAt: 5)
        #expect(try store.appendPromotion(entry, expectedVersion: nil) == .appended)
        #expect(try store.productionVersion(model: "iris") == "11")
        #expect(try store.registryMove(model: "iris")?.attempts == 0)
        try store.failRegistryMove(model: "iris", error: "MLflow is down", at: 6)
        let due = try store.registryMovesDue()
        #expect(due.map(\.model) == ["iris"] && due.first?.attempts == 1 && due.first?.lastError == "MLflow is down")
        #expect(try !store.finishRegistryMove(model: "iris", version: "10"))
        #expect(try store.finishRegistryMove(model: "iris", version: "11"))
        #expect(try store.registryMovesDue().isEmpty)
    }

    /// The gate's records go in together: report, verdict, its events and the admission of a
    /// passing version to the first environment, which a second gating of the same version (a
    /// retried run) does not add again.
    @Test(arguments: Backend.allCases) func theGateIsRecordedAllOrNothingAndAVersionIsAdmittedOnce(_ backend: Backend) throws {
        let fixture = try StoreFixture(backend)
        let store = try fixture.open()
        let first = try run(store), retry = try run(store)
        let event = NotificationEvent(kind: .gatePromoted, cause: ["1"], time: 3, repository: "iris", repositoryURL: "https://git.example/iris",
                                      link: "/runs/1", title: "iris version 4 passed the gate and enters staging")
        func admitted(by run: Int64) -> EnvironmentStepRecord {
            EnvironmentStepRecord(model: "iris", version: "4", environment: "staging", state: .admitted, detail: "the gate passed",
                                  actor: "sluice run \(run)", runId: 1, createdAt: 3)
        }
        try store.recordGate(ReportRecord(runId: first.id!, stage: "gate", kind: "gate", path: "gate.md", content: "passed"), verdict: .promote,
                             admitted: admitted(by: 1), events: [event])
        try store.recordGate(ReportRecord(runId: retry.id!, stage: "gate", kind: "gate", path: "gate.md", content: "again"), verdict: .promote,
                             admitted: admitted(by: 2), events: [event])
        #expect(try store.steps(model: "iris").map { "\($0.state.rawValue) \($0.actor)" } == ["admitted sluice run 1"])
        #expect(try store.openVersions(model: "iris") == ["4"] && store.modelsInChains() == ["iris"])
        #expect(try [first.id!, retry.id!].map { try store.run($0)?.verdict } == ["promote", "promote"])
        #expect(try store.reports(kind: "gate").map(\.content) == ["passed", "again"])
        #expect(try store.unroutedEvents().events.map(\.id) == [event.id])
        // A report that cannot be written takes the rest with it.
        var lost = event
        lost.id = "not-recorded"
        #expect(throws: RunStore.StoreError.self) {
            try store.recordGate(ReportRecord(runId: 99, stage: "gate", kind: "gate", path: "gate.md", content: "no such run"), verdict: .reject,
                                 admitted: nil, events: [lost])
        }
        #expect(try store.unroutedEvents().events.map(\.id) == [event.id])
    }

    @Test(arguments: Backend.allCases) func theNotificationOutboxRoutesCollapsesRetriesAndPrunes(_ backend: Backend) throws {
        let fixture = try StoreFixture(backend)
        let store = try fixture.open()
        func event(_ cause: String, at time: Double) -> NotificationEvent {
            NotificationEvent(kind: .runFailed, cause: [cause], time: time, repository: "iris", repositoryURL: "https://git.example/iris",
                              link: "http://sluice/runs/1", title: "run \(cause) failed")
        }
        let a = event("1", at: 10), b = event("2", at: 11)
        try store.setRunStatus(try run(store).id!, .failed, at: 10, events: [a])
        try store.recordEvents([a, b])  // recording one twice stores it once
        let unrouted = try store.unroutedEvents()
        #expect(unrouted.events.map(\.id) == [a.id, b.id] && unrouted.unreadable.isEmpty)
        #expect(try store.route(a, to: ["slack", "webhook"], fingerprint: "f", collapseSince: 0, now: 20).isEmpty)
        // The same fingerprint within the window is collapsed for each provider.
        #expect(try store.route(b, to: ["slack", "webhook"], fingerprint: "f", collapseSince: 15, now: 21) == ["slack", "webhook"])
        #expect(try store.unroutedEvents().events.isEmpty)
        #expect(try store.dueDeliveries(provider: "slack", now: 100).map(\.event.id) == [a.id])
        try store.recordAttempt(eventID: a.id, provider: "slack", state: .pending, status: 503, error: "unavailable", retryAt: 200, now: 100)
        #expect(try store.dueDeliveries(provider: "slack", now: 150).isEmpty)
        let retried = try #require(try store.dueDeliveries(provider: "slack", now: 200).first)
        #expect(retried.attempts == 1 && retried.lastStatus == 503 && retried.lastError == "unavailable")
        try store.recordAttempt(eventID: a.id, provider: "slack", state: .delivered, status: 200, error: nil, retryAt: nil, now: 201)
        #expect(try store.failDeliveries(toProvidersNotIn: ["slack"], reason: "no longer configured", now: 202) == 1)
        let recent = try store.recentDeliveries()
        #expect(Set(recent.map { "\($0.provider) \($0.state.rawValue)" }) == ["slack delivered", "webhook failed", "slack collapsed", "webhook collapsed"])
        try store.pruneNotifications(finishedBefore: 1_000)
        #expect(try store.recentDeliveries().isEmpty)
    }

    @Test(arguments: Backend.allCases) func conditionsInventoriesApprovalsPreviewsStepsAndProcessedRefs(_ backend: Backend) throws {
        let fixture = try StoreFixture(backend)
        let store = try fixture.open()
        let ready = Conditions([Condition(.fetched, .true, reason: "Fetched", message: "at abc", at: 1)])
        try store.saveConditions(ready, environments: ["staging": Conditions([Condition(.fetched, .false, reason: "Failed", message: "m", at: 2)])],
                                 repository: "iris")
        try store.saveConditions(Conditions(), repository: "wine")
        let stored = try store.conditions()
        #expect(stored["iris"]?[""] == ready && stored["iris"]?["staging"]?.all.first?.status == .false)
        #expect(try store.conditions(repository: "wine").isEmpty)

        try store.setDeployedVersion(model: "iris", environment: "prod", version: "1", at: 1)
        try store.setDeployedVersion(model: "iris", environment: "prod", version: "2", at: 2)
        #expect(try store.deployedVersion(model: "iris", environment: "prod") == RunStore.DeployedVersion(version: "2", deployedAt: 2))

        let scope = RunStore.InventoryScope(repository: "iris", cluster: "kind", environment: "prod")
        let svc = RunStore.InventoryItem(apiVersion: "v1", kind: "Service", namespace: "ml", name: "iris")
        let dep = RunStore.InventoryItem(apiVersion: "apps/v1", kind: "Deployment", namespace: "ml", name: "iris")
        try store.setInventory([svc, dep], scope)
        try store.recordApplied([svc: .init(hash: "h1", resourceVersion: "7")], scope)
        try store.setInventory([svc], scope)  // what stays keeps what was recorded as applied
        #expect(try store.inventory(scope) == [svc])
        #expect(try store.applied(scope) == [svc: .init(hash: "h1", resourceVersion: "7")])

        try store.approve(repository: "iris", ref: "refs/pull/3/head", commit: "c3", by: "ana", at: 1)
        try store.approve(repository: "iris", ref: "refs/pull/3/head", commit: "c3", by: "bob", at: 2)
        #expect(try store.approval(repository: "iris", ref: "refs/pull/3/head", commit: "c3")?.approvedBy == "ana")
        #expect(try store.approval(repository: "iris", ref: "refs/pull/3/head", commit: "c4") == nil)

        var preview = RunStore.Preview(repository: "iris", number: 3, ref: "refs/pull/3/head", commit: "c3", runId: nil, target: "kubernetes",
                                       place: "iris-pr-3", context: nil, environment: "staging", state: .deploying, detail: "", createdAt: 1,
                                       updatedAt: 1, expiresAt: 100)
        try store.savePreview(preview)
        preview.state = .ready
        preview.commit = "c4"
        try store.savePreview(preview)
        #expect(try store.previews(repository: "iris") == [preview])
        try store.deletePreview(repository: "iris", number: 3)
        #expect(try store.preview(repository: "iris", number: 3) == nil)

        try store.appendStep(EnvironmentStepRecord(model: "iris", version: "2", environment: "staging", state: .entered, detail: "", actor: "gate",
                                                   createdAt: 1))
        try store.appendStep(EnvironmentStepRecord(model: "iris", version: "1", environment: "prod", state: .approved, detail: "", actor: "ana",
                                                   createdAt: 2))
        try store.appendStep(EnvironmentStepRecord(model: "iris", version: "1", environment: "prod", state: .superseded, detail: "", actor: "gate",
                                                   createdAt: 3))
        #expect(try store.steps(model: "iris").map(\.id) == [1, 2, 3])
        #expect(try store.openVersions(model: "iris") == ["2"])
        #expect(try store.modelsInChains() == ["iris"])

        // Processed refs: another store on the same database (another replica) sees each record.
        let other = try fixture.open()
        try store.recordProcessed(repository: "iris", ref: "refs/heads/main", commit: "c1", at: 1)
        let both = try other.recordProcessed(repository: "iris", ref: "refs/pull/3/head", commit: "c3", at: 2)
        #expect(both == ["refs/heads/main": "c1", "refs/pull/3/head": "c3"])
        try other.recordProcessed(repository: "iris", ref: "refs/heads/main", commit: "c2", at: 3)
        try store.importProcessed(["refs/heads/main": "c0", "refs/heads/dev": "d1"], repository: "iris", at: 4)  // adds, never replaces
        #expect(try store.processedRefs(repository: "iris") == ["refs/heads/main": "c2", "refs/pull/3/head": "c3", "refs/heads/dev": "d1"])
        #expect(try store.processedRefs(repository: "wine").isEmpty)
    }

    /// Two stores on one database (two processes, or two replicas) promote at once, eight
    /// workers each trying every step: each production version is swapped out at most once, so
    /// the log stays one chain (1, 2, 3, …) however the attempts interleave.
    @Test(arguments: Backend.allCases) func promotionsFromTwoStoresAtOnceSwapOnce(_ backend: Backend) throws {
        let fixture = try StoreFixture(backend)
        let stores = [try fixture.open(), try fixture.open()]
        let outcome = NSLock()
        nonisolated(unsafe) var wins = 0
        nonisolated(unsafe) var failures: [String] = []
        DispatchQueue.concurrentPerform(iterations: 8) { worker in
            let store = stores[worker % 2]
            for step in 0..<30 {
                let expected = step == 0 ? nil : String(step)
                let entry = PromotionRecord(model: "m", version: String(step + 1), action: .promote, commit: "c", runId: nil,
                                            previousVersion: expected, actor: "w\(worker)", reason: "r", createdAt: Double(step))
                do {
                    let won = try store.appendPromotion(entry, expectedVersion: expected) == .appended
                    outcome.withLock { wins += won ? 1 : 0 }
                } catch {
                    outcome.withLock { failures.append("\(error)") }
                }
            }
        }
        #expect(failures.isEmpty)
        #expect(wins >= 1)
        #expect(try stores[0].promotions(model: "m").map(\.version) == (1...max(wins, 1)).map(String.init))
    }
}
