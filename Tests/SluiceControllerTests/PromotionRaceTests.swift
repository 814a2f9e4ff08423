import Foundation
import Synchronization
import Testing
import SluiceCore
import SluiceGit
import SluiceRegistry
import SluiceStore
import SluiceYAML
import SluiceTestSupport
@testable import SluiceController

/// Two promotions of different versions racing, paused between the log's compare-and-swap and
/// the registry move (`Promotion.afterSwap`): whatever the interleaving, the registry, the log
/// and `refs/sluice/promotions` end naming the same version, and the loser changes nothing.
@Suite(.serialized) struct PromotionRaceTests {
    /// A repository with three commits, a store, and versions 1–3 of `demo` in `registry`.
    struct Fixture {
        let repo: TestRepository
        let state = TemporaryDirectory(prefix: "sluice-race")
        let store: RunStore
        let registry: any ModelRegistry
        var versions: [RegisteredVersion] = []

        let model: String

        init(model: String = "demo", registry make: (RunStore) -> any ModelRegistry) throws {
            self.model = model
            repo = try TestRepository()
            store = try RunStore(stateDirectory: state.path)
            registry = make(store)
            for n in 1...3 {
                let commit = try repo.commit("commit \(n)", files: ["model.txt": "model \(n)\n"])
                let run = try store.insert(RunRecord(repository: repo.path, ref: "refs/heads/main", commit: commit, baseCommit: nil, trigger: "commit",
                                                     createdAt: Double(n)), stages: [])
                let json = "{\"accuracy\": 0.9\(n)}"
                var candidate = Candidate(model: model, commit: commit, runID: run.id!, metrics: try #require(MetricsJSON.read(json, file: "m.json")),
                                          metricsJSON: json, datasetVersions: ["d": "v\(n)"], parameters: [:], artifactDigest: nil)
                candidate.repository = repo.path
                versions.append(try registry.register(candidate).version)
            }
        }

        /// Each promotion opens the repository itself: libgit2 handles are not shared across threads.
        func git() throws -> GitRepository { try GitRepository(path: repo.path) }

        func promotion(afterSwap: (@Sendable (PromotionRecord) -> Void)? = nil) -> Promotion {
            var p = Promotion(store: store, registry: registry)
            p.afterSwap = afterSwap
            return p
        }

        func move(_ index: Int, expected: String?, with promotion: Promotion) throws -> Promotion.Result {
            try promotion.move(to: versions[index], action: .promote, expected: expected, actor: "test", reason: "race",
                               runID: nil, note: nil, repository: try git())
        }

        /// Registry, log and git record of `demo`, in that order.
        func production() throws -> (registry: String?, log: String?, git: String?) {
            (try registry.production(model: model)?.version, try store.productionVersion(model: model),
             try PromotionHistory.entries(in: try git()).last { $0.model == model }?.version)
        }
    }

    /// A promotion on another thread, paused right after its swap until `release`.
    final class Paused: @unchecked Sendable {
        // @unchecked: `result` is written once on the worker thread before `done` is signalled, and read after waiting on it.
        let swapped = DispatchSemaphore(value: 0)
        let release = DispatchSemaphore(value: 0)
        let done = DispatchSemaphore(value: 0)
        var result: Result<Promotion.Result, any Error>?

        init(_ fixture: Fixture, index: Int, expected: String?) {
            let promotion = fixture.promotion(afterSwap: { [swapped, release] _ in
                swapped.signal()
                release.wait()
            })
            // A thread of its own: the test's thread blocks on the semaphores, and the shared pools have one thread per core.
            Thread.detachNewThread {
                self.result = Result { try fixture.move(index, expected: expected, with: promotion) }
                self.done.signal()
                self.swapped.signal()  // wakes `waitForSwap` when the move ended without swapping
            }
        }

        /// Waits until the promotion is paused after its swap; throws when it ended without one.
        func waitForSwap() throws {
            swapped.wait()
            if done.wait(timeout: .now()) == .success {
                throw SwapError(description: "the promotion ended without swapping: \(String(describing: result))")
            }
        }

        struct SwapError: Error, CustomStringConvertible { var description: String }

        func finish() throws -> Promotion.Result {
            release.signal()
            done.wait()
            return try result!.get()
        }
    }

    /// A second promotion from the same production loses while the first is paused: it changes
    /// nothing (on 77799c8 it moved the registry before losing the swap).
    func loserChangesNothing(_ fixture: Fixture) throws {
        guard case .moved = try fixture.move(0, expected: nil, with: fixture.promotion()) else { Issue.record("v1 not promoted"); return }
        let first = Paused(fixture, index: 1, expected: "1")
        try first.waitForSwap()
        guard case .lost(let current) = try fixture.move(2, expected: "1", with: fixture.promotion()) else {
            Issue.record("the second promotion from version 1 won although the log had moved to 2")
            return
        }
        #expect(current == "2")
        // The paused winner has not moved the registry yet; the loser must not have either.
        if fixture.registry.kind == "mlflow" { #expect(try fixture.registry.production(model: fixture.model)?.version == "1") }
        guard case .moved(let entry, let problems) = try first.finish() else { Issue.record("the paused promotion lost"); return }
        #expect(entry.version == "2")
        #expect(problems.isEmpty, "\(problems)")
        let p = try fixture.production()
        #expect(p.registry == "2" && p.log == "2" && p.git == "2", "\(p)")
    }

    /// A promotion that swaps after a paused one and finishes first: the paused one's registry
    /// move and git record follow the log, not its own version.
    func laterPromotionOvertakes(_ fixture: Fixture) throws {
        guard case .moved = try fixture.move(0, expected: nil, with: fixture.promotion()) else { Issue.record("v1 not promoted"); return }
        let first = Paused(fixture, index: 1, expected: "1")
        try first.waitForSwap()
        guard case .moved = try fixture.move(2, expected: "2", with: fixture.promotion()) else { Issue.record("v3 over v2 lost"); return }
        let meanwhile = try fixture.production()
        #expect(meanwhile.registry == "3" && meanwhile.log == "3" && meanwhile.git == "3", "\(meanwhile)")
        guard case .moved = try first.finish() else { Issue.record("the paused promotion lost"); return }
        let p = try fixture.production()
        #expect(p.registry == "3" && p.log == "3" && p.git == "3", "\(p)")
        #expect(try PromotionHistory.entries(in: try fixture.git()).filter { $0.model == fixture.model }.map(\.version) == ["1", "2", "3"])
        #expect(try fixture.store.registryMovesDue().isEmpty)
    }

    @Test func embeddedRegistryLoserChangesNothing() throws {
        try loserChangesNothing(try Fixture { EmbeddedRegistry(store: $0) })
    }

    @Test func embeddedRegistryOvertakenPromotionFollowsTheLog() throws {
        try laterPromotionOvertakes(try Fixture { EmbeddedRegistry(store: $0) })
    }

    @Test(.enabled(if: RequiredTools.run(whenPresent: MLflowServer.isInstalled), "mlflow is not installed (pip install mlflow): SKIPPED"))
    func mlflowRegistryRaces() throws {
        let server = try MLflowServer()
        try loserChangesNothing(try Fixture(model: "lost") { _ in MLflowRegistry(trackingURI: server.url) })
        try laterPromotionOvertakes(try Fixture(model: "overtaken") { _ in MLflowRegistry(trackingURI: server.url) })
    }

    /// A state folder whose log starts empty (a new replica, a lost volume) still appends its
    /// promotions to the record in git, which holds entries it did not write.
    @Test func aStateFolderThatDidNotWriteTheRecordAppendsToIt() throws {
        let fixture = try Fixture { EmbeddedRegistry(store: $0) }
        guard case .moved = try fixture.move(0, expected: nil, with: fixture.promotion()),
              case .moved = try fixture.move(1, expected: "1", with: fixture.promotion()) else { Issue.record("not promoted"); return }
        let other = TemporaryDirectory(prefix: "sluice-race-other")
        let store = try RunStore(stateDirectory: other.path)
        let registry = EmbeddedRegistry(store: store)
        let json = "{\"accuracy\": 0.99}"
        let candidate = Candidate(model: fixture.model, commit: fixture.versions[2].commit, runID: 1, metrics: try #require(MetricsJSON.read(json, file: "m.json")),
                                  metricsJSON: json, datasetVersions: [:], parameters: [:], artifactDigest: nil)
        let version = try registry.register(candidate).version
        guard case .moved(let entry, let problems) = try Promotion(store: store, registry: registry)
            .move(to: version, action: .promote, expected: nil, actor: "replica", reason: "fresh state", runID: nil, note: nil, repository: try fixture.git())
        else { Issue.record("lost"); return }
        #expect(problems.isEmpty, "\(problems)")
        let recorded = try PromotionHistory.entries(in: try fixture.git()).filter { $0.model == fixture.model }
        #expect(recorded.map(\.actor) == ["test", "test", "replica"])
        #expect(recorded.last?.createdAt == entry.createdAt)
    }

    /// A registry that refuses the move: the log keeps the promotion, the move stays due with the
    /// registry's answer, and the controller's retry (`syncRegistry`) finishes it.
    @Test(.enabled(if: RequiredTools.run(whenPresent: MLflowServer.isInstalled), "mlflow is not installed (pip install mlflow): SKIPPED"))
    func aRefusedRegistryMoveStaysDueUntilRetried() throws {
        let server = try MLflowServer()
        let fixture = try Fixture { _ in MLflowRegistry(trackingURI: server.url) }
        guard case .moved = try fixture.move(0, expected: nil, with: fixture.promotion()) else { Issue.record("v1 not promoted"); return }
        let port = server.port
        server.process.stop()
        guard case .moved(_, let problems) = try fixture.move(1, expected: "1", with: fixture.promotion()) else { Issue.record("lost"); return }
        #expect(problems.first?.contains("the mlflow registry was not moved to version 2 of demo yet") == true, "\(problems)")
        let due = try #require(try fixture.store.registryMove(model: "demo"))
        #expect(due.attempts == 1 && due.lastError != nil)
        #expect(try fixture.store.productionVersion(model: "demo") == "2")

        // MLflow back at the same address, on the same database: the retry moves the alias.
        let again = try MLflowServer(port: port, reuse: server.directory)
        #expect(try fixture.promotion().syncRegistry(model: "demo") == nil)
        #expect(try fixture.registry.production(model: "demo")?.version == "2")
        #expect(try fixture.store.registryMove(model: "demo") == nil)
        withExtendedLifetime(again) {}
    }
}
