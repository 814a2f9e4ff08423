import Foundation
import Synchronization
import Testing
import SluiceCore
import SluiceTestSupport
@testable import SluiceRunner

/// Real processes: exit codes, timeouts, cancellation, huge output, leftover children.
@Suite struct StageProcessTests {
    final class Lines: Sendable {
        let lines = Mutex<[LogLine]>([])
        func add(_ l: LogLine) { lines.withLock { $0.append(l) } }
        var all: [LogLine] { lines.withLock { $0 } }
        var texts: [String] { all.map(\.text) }
    }

    func spec(_ script: String, timeout: Double? = nil, dir: TemporaryDirectory, secrets: [String] = []) -> ProcessSpec {
        var s = ProcessSpec(arguments: ProcessSpec.arguments(for: .shell(script)), workingDirectory: dir.path,
                            environment: ["PATH": "/usr/local/bin:/usr/bin:/bin", "GREETING": "hi"], timeoutSeconds: timeout,
                            masker: SecretMasker(secrets: secrets))
        s.killGraceSeconds = 0.5
        return s
    }

    /// Killed processes stay zombies until their new parent reaps them; wait for that.
    static func groupGone(_ pgid: pid_t) async -> Bool {
        for _ in 0..<100 {
            if kill(-pgid, 0) != 0 { return true }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return false
    }

    @Test func capturesBothStreamsLineByLineInItsWorkspace() async throws {
        let dir = TemporaryDirectory()
        let lines = Lines()
        let outcome = try await StageProcess.run(spec("echo $GREETING; pwd; echo oops >&2; printf 'no newline'", dir: dir)) { lines.add($0) }
        #expect(outcome.succeeded)
        #expect(Set(lines.texts) == ["hi", dir.path, "oops", "no newline"])
        #expect(lines.all.first { $0.text == "oops" }?.stream == .stderr)
    }

    @Test func nonZeroExitIsReported() async throws {
        let dir = TemporaryDirectory()
        let outcome = try await StageProcess.run(spec("exit 3", dir: dir)) { _ in }
        #expect(outcome.exitCode == 3)
        #expect(!outcome.succeeded)
        #expect(outcome.summary == "exited with code 3")
    }

    @Test func argvIsNotInterpretedByAShell() async throws {
        let dir = TemporaryDirectory()
        let lines = Lines()
        var s = spec("", dir: dir)
        s.arguments = ["echo", "$(touch pwned); `id`"]
        let outcome = try await StageProcess.run(s) { lines.add($0) }
        #expect(outcome.succeeded)
        #expect(lines.texts == ["$(touch pwned); `id`"])
        #expect(!FileManager.default.fileExists(atPath: dir.path + "/pwned"))
    }

    @Test func timeoutKillsTheWholeGroupEvenWhenTermIsIgnored() async throws {
        let dir = TemporaryDirectory()
        let pgid = Mutex<pid_t>(0)
        let outcome = try await StageProcess.run(spec("trap '' TERM; sleep 30 & sleep 30; wait", timeout: 0.5, dir: dir),
                                                 onStart: { p in pgid.withLock { $0 = p } }) { _ in }
        #expect(outcome.timedOut)
        #expect(await Self.groupGone(pgid.withLock { $0 }), "process group still alive")
    }

    @Test func cancellationKillsTheGroup() async throws {
        let dir = TemporaryDirectory()
        let cancellation = StageProcess.Cancellation()
        // A Dispatch timer, not a Task: other tests may be blocking the few cooperative threads.
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.3) { cancellation.cancel() }
        let outcome = try await StageProcess.run(spec("sleep 30", dir: dir), cancellation: cancellation) { _ in }
        #expect(outcome.cancelled)
        #expect(outcome.summary.contains("cancelled"))
    }

    @Test func childrenThatOutliveTheStageAreKilled() async throws {
        let dir = TemporaryDirectory()
        let pgid = Mutex<pid_t>(0)
        let outcome = try await StageProcess.run(spec("sleep 60 & echo started", dir: dir),
                                                 onStart: { p in pgid.withLock { $0 = p } }) { _ in }
        #expect(outcome.exitCode == 0)
        #expect(outcome.killedLeftovers)
        #expect(await Self.groupGone(pgid.withLock { $0 }))
    }

    @Test func aGigabyteOfOutputIsCappedNotBuffered() async throws {
        let dir = TemporaryDirectory()
        let lines = Lines()
        var s = spec("yes 'a line of output' | head -c 1000000000", dir: dir)
        s.outputLimitBytes = 1 << 20
        let outcome = try await StageProcess.run(s) { lines.add($0) }
        #expect(outcome.succeeded)
        #expect(outcome.outputTruncated)
        #expect(outcome.outputBytes == 1_000_000_000)
        #expect(lines.all.count < 70_000)
        #expect(lines.all.last?.stream == .sluice)
        #expect(outcome.summary.contains("output truncated"))
    }

    /// 100 million empty lines made a 1.5 GB log: the limit counted output bytes, not what each
    /// stored line takes (its text plus a timestamp and the stream's name).
    @Test func theLimitCountsStoredBytesNotOutputBytes() async throws {
        let dir = TemporaryDirectory()
        let lines = Lines()
        var s = spec("yes '' | head -n 10000000", dir: dir)
        s.outputLimitBytes = 1 << 20
        let outcome = try await StageProcess.run(s) { lines.add($0) }
        #expect(outcome.outputTruncated)
        let stored = lines.all.reduce(0) { $0 + $1.text.utf8.count + LogLine.storedOverheadBytes }
        #expect(stored <= (1 << 20) + 200, "stored \(stored) bytes for a 1 MiB limit")
    }

    @Test func secretsAreMaskedBeforeAnyoneSeesThem() async throws {
        let dir = TemporaryDirectory()
        let lines = Lines()
        _ = try await StageProcess.run(spec("echo value=hunter2-long; echo token ghp_abcdefghijklmnopqrstuvwxyz0123456789; echo https://bob:pa55word@example.com/x",
                                            dir: dir, secrets: ["hunter2-long"])) { lines.add($0) }
        #expect(lines.texts == ["value=***", "token ***", "https://bob:***@example.com/x"])
    }

    @Test func aMissingProgramIsAClearError() async throws {
        let dir = TemporaryDirectory()
        var s = spec("", dir: dir)
        s.arguments = ["no-such-program-xyz"]
        await #expect {
            _ = try await StageProcess.run(s) { _ in }
        } throws: { "\($0)".contains("cannot start 'no-such-program-xyz'") }
    }
}
