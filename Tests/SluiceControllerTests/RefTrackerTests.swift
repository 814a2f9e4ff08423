import Foundation
import Testing
import SluiceGit
import SluiceTestSupport
@testable import SluiceController

@Suite struct RefTrackerTests {
    @Test func detectsNewAdvancedAndRewrittenHistoryDurably() throws {
        let repo = try TestRepository()
        let state = TemporaryDirectory(prefix: "sluice-state")
        let a = try repo.commit("a", files: ["sluice.yaml": "version: 1\nstages:\n  t: { run: x, when: { paths: [src/**] } }\n", "src/x": "1"])
        var git = try GitRepository(path: repo.path)

        var tracker = try RefTracker(stateDirectory: state.path, repository: repo.path)
        let first = try tracker.updates(in: git, refs: ["refs/heads/main"])
        #expect(first == [RefTracker.Update(ref: "refs/heads/main", previous: nil, head: a, kind: .new)])
        try tracker.record("refs/heads/main", commit: a)
        #expect(try tracker.updates(in: git, refs: ["refs/heads/main"]).isEmpty)

        let b = try repo.commit("b", files: ["src/x": "2"])
        git = try GitRepository(path: repo.path)
        // A new tracker reads what the old one recorded: nothing is lost across restarts.
        tracker = try RefTracker(stateDirectory: state.path, repository: repo.path)
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
        let production = try RefTracker(stateDirectory: state.path, repository: "/repo")
        let mergeRequest = try RefTracker(stateDirectory: state.path, repository: "/repo")
        try production.record("refs/heads/main", commit: "c1")
        try mergeRequest.record("refs/merge-requests/7/head", commit: "c1")
        let later = try RefTracker(stateDirectory: state.path, repository: "/repo")
        #expect(later.lastProcessed("refs/heads/main") == "c1")
        #expect(later.lastProcessed("refs/merge-requests/7/head") == "c1")
        #expect(mergeRequest.lastProcessed("refs/heads/main") == "c1")
    }

    @Test func unreadableStateIsNotFatal() throws {
        let state = TemporaryDirectory(prefix: "sluice-state")
        let tracker = try RefTracker(stateDirectory: state.path, repository: "/some/repo")
        try "not json".write(toFile: tracker.file, atomically: true, encoding: .utf8)
        let again = try RefTracker(stateDirectory: state.path, repository: "/some/repo")
        #expect(again.lastProcessed("refs/heads/main") == nil)
    }
}
