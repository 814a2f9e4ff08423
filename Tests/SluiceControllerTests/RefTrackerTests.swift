import Foundation
import Testing
import SluiceGit
import SluiceStore
import SluiceTestSupport
@testable import SluiceController

@Suite struct RefTrackerTests {
    @Test func detectsNewAdvancedAndRewrittenHistoryDurably() throws {
        let repo = try TestRepository()
        let state = TemporaryDirectory(prefix: "sluice-state")
        let store = try RunStore(stateDirectory: state.path)
        let a = try repo.commit("a", files: ["sluice.yaml": "version: 1\nstages:\n  t: { run: x, when: { paths: [src/**] } }\n", "src/x": "1"])
        var git = try GitRepository(path: repo.path)

        var tracker = try RefTracker(store: store, repository: repo.path)
        let first = try tracker.updates(in: git, refs: ["refs/heads/main"])
        #expect(first == [RefTracker.Update(ref: "refs/heads/main", previous: nil, head: a, kind: .new)])
        try tracker.record("refs/heads/main", commit: a)
        #expect(try tracker.updates(in: git, refs: ["refs/heads/main"]).isEmpty)

        let b = try repo.commit("b", files: ["src/x": "2"])
        git = try GitRepository(path: repo.path)
        // A new tracker reads what the old one recorded: nothing is lost across restarts.
        tracker = try RefTracker(store: store, repository: repo.path)
        #expect(tracker.lastProcessed("refs/heads/main") == a)
        let advanced = try #require(try tracker.updates(in: git, refs: ["refs/heads/main"]).first)
        #expect(advanced.kind == .advanced)
        #expect(advanced.base == a)
        try tracker.record("refs/heads/main", commit: b)

        // Force-push: main is rewritten to a sibling of b.
        try repo.git(["reset", "-q", "--hard", a])
        let c = try repo.commit("c", files: ["src/y": "3"])
        git = try GitRepository(path: repo.path)
        let rewritten = try #require(try tracker.updates(in: git, refs: ["refs/heads/main"]).first)
        #expect(rewritten.kind == .rewritten(mergeBase: a))
        #expect(rewritten.head == c)
        let outcome = try CommitPlanner(repository: git).plan(revision: rewritten.head, since: rewritten.base)
        #expect(outcome.plan?.baseCommit == a)
        #expect(CommitPlanner.rewrittenNote(rewritten)?.contains("history of refs/heads/main rewritten (force-push)") == true)
        #expect(outcome.plan?.stages.first?.reasons == ["paths changed: src/y"])
    }

    @Test func tracksDefaultBranchAndMergeRequestHeads() throws {
        let repo = try TestRepository(branch: "trunk")
        let id = try repo.commit("one", files: ["f": "1"])
        try repo.git(["update-ref", "refs/pull/4/head", id])
        let git = try GitRepository(path: repo.path)
        #expect(try RefTracker.trackedRefs(in: git, branches: nil, mergeRequests: false) == ["refs/heads/trunk"])
        #expect(try RefTracker.trackedRefs(in: git, branches: ["release"], mergeRequests: true) == ["refs/heads/release", "refs/pull/4/head"])
    }

    /// The production run and a merge request's run of one repository finish together, each
    /// with a tracker made before the other wrote: neither record may be lost (a lost one made
    /// the controller run that merge request a second time).
    @Test func twoTrackersOfOneRepositoryKeepEachOthersRecords() throws {
        let state = TemporaryDirectory(prefix: "sluice-state")
        let store = try RunStore(stateDirectory: state.path)
        let production = try RefTracker(store: store, repository: "/repo")
        let mergeRequest = try RefTracker(store: store, repository: "/repo")
        try production.record("refs/heads/main", commit: "c1")
        try mergeRequest.record("refs/merge-requests/7/head", commit: "c1")
        let later = try RefTracker(store: store, repository: "/repo")
        #expect(later.lastProcessed("refs/heads/main") == "c1")
        #expect(later.lastProcessed("refs/merge-requests/7/head") == "c1")
        #expect(mergeRequest.lastProcessed("refs/heads/main") == "c1")
    }

    /// A state folder from before the store held processed refs: its file's refs move into the
    /// store (an upgrade runs no tip again) and the file goes; an unreadable file held nothing.
    @Test func aStateFolderFileOfProcessedRefsMovesIntoTheStore() throws {
        let state = TemporaryDirectory(prefix: "sluice-state")
        let store = try RunStore(stateDirectory: state.path)
        let file = LegacyProcessedRefs.file(stateDirectory: state.path, repository: "/some/repo")
        try FileManager.default.createDirectory(atPath: state.path + "/refs", withIntermediateDirectories: true)
        try #"{"refs/heads/main": "c1", "refs/pull/2/head": "p2"}"#.write(toFile: file, atomically: true, encoding: .utf8)
        let tracker = try RefTracker(store: store, repository: "/some/repo")
        #expect(tracker.lastProcessed("refs/heads/main") == "c1" && tracker.lastProcessed("refs/pull/2/head") == "p2")
        #expect(!FileManager.default.fileExists(atPath: file))
        #expect(try store.processedRefs(repository: "/some/repo") == ["refs/heads/main": "c1", "refs/pull/2/head": "p2"])

        let other = LegacyProcessedRefs.file(stateDirectory: state.path, repository: "/other/repo")
        try "not json".write(toFile: other, atomically: true, encoding: .utf8)
        #expect(try RefTracker(store: store, repository: "/other/repo").lastProcessed("refs/heads/main") == nil)
        #expect(!FileManager.default.fileExists(atPath: other))
    }

    /// `sluice plan --ref` before any run: no store, so every ref is new, and nothing is recorded.
    @Test func withoutAStoreEveryRefIsNewAndARecordIsRefused() throws {
        let tracker = try RefTracker(store: nil, repository: "/repo")
        #expect(tracker.lastProcessed("refs/heads/main") == nil)
        #expect(throws: RunStore.StoreError.self) { try tracker.record("refs/heads/main", commit: "c1") }
    }
}
