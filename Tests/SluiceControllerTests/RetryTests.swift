import Testing
import SluiceCore
import SluiceGit
import SluiceTestSupport
@testable import SluiceController

@Suite struct RetryTests {
    struct Flaky: Error { var transient: Bool }

    @Test func retriesTransientFailuresThenSucceeds() throws {
        var calls = 0
        var slept: [Double] = []
        let value = try retrying(Backoff(initial: 1, attempts: 4), isTransient: { (e: Flaky) in e.transient }, sleep: { slept.append($0) }) { () throws(Flaky) -> Int in
            calls += 1
            if calls < 3 { throw Flaky(transient: true) }
            return 42
        }
        #expect(value == 42)
        #expect(calls == 3)
        #expect(slept.count == 2)
        #expect(slept[0] >= 0.5 && slept[0] <= 1 && slept[1] >= 1 && slept[1] <= 2)
    }

    @Test func givesUpAfterTheLastAttemptAndNeverRetriesPermanentErrors() {
        var calls = 0
        #expect(throws: Flaky.self) {
            try retrying(Backoff(initial: 0, attempts: 3), isTransient: { (e: Flaky) in e.transient }, sleep: { _ in }) { () throws(Flaky) in
                calls += 1
                throw Flaky(transient: true)
            }
        }
        #expect(calls == 3)
        calls = 0
        #expect(throws: Flaky.self) {
            try retrying(Backoff(initial: 0, attempts: 3), isTransient: { (e: Flaky) in e.transient }, sleep: { _ in }) { () throws(Flaky) in
                calls += 1
                throw Flaky(transient: false)
            }
        }
        #expect(calls == 1)
    }

    @Test func aRemoteThatIsDownIsRetriedWithBackoffAndNamed() throws {
        let url = "git://127.0.0.1:\(try FreePort.next())/down.git"
        let state = TemporaryDirectory(prefix: "sluice-state")
        var retries: [Int] = []
        do {
            _ = try RepositorySource.open(url, stateDirectory: state.path, credentials: GitCredentials(),
                                          backoff: Backoff(initial: 0.05, attempts: 3), onRetry: { n, _, _ in retries.append(n) })
            Issue.record("expected an error")
        } catch {
            #expect(error.description.contains(url))
        }
        #expect(retries == [1, 2])
    }
}
