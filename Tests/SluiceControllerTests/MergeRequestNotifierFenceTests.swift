import Synchronization
import Testing
import SluiceForge
@testable import SluiceController

/// A forge that records what it was told.
private final class RecordingForge: Forge {
    let calls = Mutex<[String]>([])
    let name = "recording"
    let commentLimit = 65_536
    func upsertComment(mergeRequest: Int, body: String, marker: String) throws(ForgeError) { calls.withLock { $0.append("comment \(mergeRequest)") } }
    func setStatus(commit: String, state: CommitState, description: String, targetURL: String?) throws(ForgeError) {
        calls.withLock { $0.append("status \(commit) \(state.rawValue)") }
    }
    func mergeRequestOrigin(_ mergeRequest: Int) throws(ForgeError) -> MergeRequestOrigin { MergeRequestOrigin(fromFork: false, headRepository: nil, author: nil) }
    func openMergeRequests() throws(ForgeError) -> Set<Int> { [] }
    func label(mergeRequest: Int) -> String { "pull request #\(mergeRequest)" }
}

@Suite struct MergeRequestNotifierFenceTests {
    /// A replica whose leadership term is over posts nothing: each post is a problem that says
    /// why, and the forge is never called; the same holds for the notifier of another merge request.
    @Test func aFencedNotifierPostsNothingAndSaysWhy() {
        let forge = RecordingForge()
        var notifier = MergeRequestNotifier(forge: forge, mergeRequest: 7, reportURLTemplate: nil)
        #expect(notifier.started(commit: "c1", run: 1).isEmpty)
        #expect(forge.calls.withLock { $0 } == ["status c1 pending"])

        notifier.fence = { act in "\(act) refused: replica-a's term 1 of lease ns/l is over; replica-b leads in term 2" }
        let problems = notifier.started(commit: "c2", run: 2) + notifier.on(mergeRequest: 8).preview("body")
        #expect(problems.map(\.message) == [
            "posting to pull request #7 on recording refused: replica-a's term 1 of lease ns/l is over; replica-b leads in term 2",
            "posting to pull request #8 on recording refused: replica-a's term 1 of lease ns/l is over; replica-b leads in term 2",
        ])
        #expect(forge.calls.withLock { $0 } == ["status c1 pending"])
    }
}
