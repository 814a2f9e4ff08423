import FoundationEssentials
import Synchronization
import CProcess
#if canImport(Glibc)
import Glibc
#endif

/// Runs one stage as a process in its own process group: captures stdout and stderr
/// line by line (masked, timestamped), enforces the timeout, and on timeout,
/// cancellation or exit kills the whole group, so nothing the stage started outlives it.
public enum StageProcess {
    public struct SpawnError: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// Set to stop a running stage (SIGTERM to the group, then SIGKILL after the grace period).
    public final class Cancellation: Sendable {
        private let flag = Atomic<Bool>(false)
        public init() {}
        public func cancel() { flag.store(true, ordering: .relaxed) }
        public var isCancelled: Bool { flag.load(ordering: .relaxed) }
    }

    /// Runs `spec` on a dedicated thread (the reads block) and returns how it ended.
    /// `onStart` receives the process group id, `onLine` every (masked) line.
    public static func run(
        _ spec: ProcessSpec,
        cancellation: Cancellation = Cancellation(),
        onStart: @escaping @Sendable (pid_t) -> Void = { _ in },
        onLine: @escaping @Sendable (LogLine) -> Void
    ) async throws(SpawnError) -> ProcessOutcome {
        let result: Result<ProcessOutcome, SpawnError> = await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                BlockingThread.start {
                    continuation.resume(returning: Result { () throws(SpawnError) in
                        try runBlocking(spec, cancellation: cancellation, onStart: onStart, onLine: onLine)
                    })
                }
            }
        } onCancel: {
            cancellation.cancel()
        }
        return try result.get()
    }

    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    static func monotonic() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    private static func spawn(_ spec: ProcessSpec, stdoutFD: Int32, stderrFD: Int32) throws(SpawnError) -> pid_t {
        let argv = spec.arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        let env = spec.environment.sorted { $0.key < $1.key }.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { env.forEach { free($0) } }
        // PATH lookup uses the stage's PATH, not Sluice's.
        let executable = resolve(spec.arguments[0], path: spec.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin")
        let ruleset = try spec.sandbox.map { (sandbox) throws(SpawnError) in try Sandbox.ruleset(sandbox.policy, abi: sandbox.abi) }
        var failedErrno: Int32 = 0
        var failedStep: UnsafePointer<CChar>?
        let pid = withExtendedLifetime(ruleset) {
            sluice_spawn(executable, argv, env, spec.workingDirectory, stdoutFD, stderrFD, ruleset?.fd ?? -1, &failedErrno, &failedStep)
        }
        guard pid > 0 else {
            let reason = String(cString: strerror(failedErrno))
            switch failedStep.map({ String(cString: $0) }) {
            case "chdir": throw SpawnError(description: "workspace '\(spec.workingDirectory)' is gone: \(reason)")
            case "landlock": throw SpawnError(description: "cannot enter the sandbox: \(reason)")
            case "exec": throw SpawnError(description: "cannot start '\(spec.arguments[0])': \(reason)")
            default: throw SpawnError(description: "cannot start a process: \(reason)")
            }
        }
        return pid
    }

    private static func resolve(_ name: String, path: String) -> String {
        if name.contains("/") { return name }
        for dir in path.split(separator: ":") {
            let candidate = "\(dir)/\(name)"
            if access(candidate, X_OK) == 0 { return candidate }
        }
        return name
    }

    static func runBlocking(
        _ spec: ProcessSpec, cancellation: Cancellation,
        onStart: (pid_t) -> Void, onLine: @escaping (LogLine) -> Void
    ) throws(SpawnError) -> ProcessOutcome {
        guard !spec.arguments.isEmpty else { throw SpawnError(description: "empty command") }
        var outPipe: [Int32] = [0, 0], errPipe: [Int32] = [0, 0]
        guard sluice_pipe_cloexec(&outPipe) == 0, sluice_pipe_cloexec(&errPipe) == 0 else {
            throw SpawnError(description: "cannot create pipes: \(String(cString: strerror(errno)))")
        }
        let started = monotonic()
        let pid: pid_t
        do {
            pid = try spawn(spec, stdoutFD: outPipe[1], stderrFD: errPipe[1])
        } catch {
            [outPipe[0], outPipe[1], errPipe[0], errPipe[1]].forEach { close($0) }
            throw error
        }
        close(outPipe[1])
        close(errPipe[1])
        onStart(pid)

        var outcome = ProcessOutcome()
        outcome.pid = pid
        var capture = OutputCapture(spec: spec, onLine: onLine)
        var open: [(fd: Int32, stream: LogLine.Stream)] = [(outPipe[0], .stdout), (errPipe[0], .stderr)]
        var exited = false
        var status: Int32 = 0
        var termSentAt: Double?
        var drainDeadline: Double?
        var buffer = [UInt8](repeating: 0, count: 65536)
        // Readable when the stage exits, so its end is seen at once rather than at the next tick.
        let exitFD = sluice_pidfd_open(pid)
        defer { if exitFD >= 0 { close(exitFD) } }

        while !open.isEmpty || !exited {
            let now = monotonic()
            if !exited {
                if waitpid(pid, &status, WNOHANG) == pid {
                    exited = true
                    // Anything still in the group outlived the stage: kill it, then drain briefly.
                    if kill(-pid, 0) == 0 {
                        outcome.killedLeftovers = true
                        kill(-pid, SIGKILL)
                    }
                    drainDeadline = now + 2
                } else if termSentAt == nil {
                    if let t = spec.timeoutSeconds, now - started > t { outcome.timedOut = true }
                    if cancellation.isCancelled { outcome.cancelled = true }
                    if outcome.timedOut || outcome.cancelled {
                        kill(-pid, SIGTERM)
                        termSentAt = now
                    }
                } else if let sent = termSentAt, now - sent > spec.killGraceSeconds {
                    kill(-pid, SIGKILL)
                }
            }
            if exited, let d = drainDeadline, now > d { break }
            var fds = open.map { pollfd(fd: $0.fd, events: Int16(POLLIN), revents: 0) }
            if !exited, exitFD >= 0 { fds.append(pollfd(fd: exitFD, events: Int16(POLLIN), revents: 0)) }
            if fds.isEmpty {
                if !exited { usleep(2_000) }  // no pidfd (old kernel): poll for the exit
                continue  // (exited with its output closed: the loop ends)
            }
            let ready = poll(&fds, nfds_t(fds.count), 50)
            if ready <= 0 { continue }
            var closed: [Int32] = []
            for (i, p) in fds.enumerated() where p.revents != 0 && i < open.count {
                let n = read(p.fd, &buffer, buffer.count)
                if n > 0 {
                    buffer.withUnsafeBufferPointer { capture.append(UnsafeBufferPointer(rebasing: $0[0..<n]), stream: open[i].stream) }
                } else if n == 0 || (errno != EINTR && errno != EAGAIN) {
                    closed.append(p.fd)
                }
            }
            for fd in closed { close(fd) }
            open.removeAll { closed.contains($0.fd) }
        }
        for o in open { close(o.fd) }
        capture.flush()
        if !exited {  // drained past the deadline without the process exiting: should not happen
            kill(-pid, SIGKILL)
            waitpid(pid, &status, 0)
        }
        kill(-pid, SIGKILL)  // the group must be gone whatever happened

        outcome.seconds = monotonic() - started
        if (status & 0x7f) == 0 {
            outcome.exitCode = (status >> 8) & 0xff
        } else {
            outcome.signal = status & 0x7f
        }
        outcome.outputBytes = capture.totalBytes
        outcome.outputTruncated = capture.truncated
        return outcome
    }
}

/// Splits a byte stream into lines per stream, applying the byte limit and masking.
struct OutputCapture {
    let spec: ProcessSpec
    let onLine: (LogLine) -> Void
    var partial: [LogLine.Stream: [UInt8]] = [:]
    var totalBytes = 0
    var keptBytes = 0
    var truncated = false

    init(spec: ProcessSpec, onLine: @escaping (LogLine) -> Void) {
        self.spec = spec
        self.onLine = onLine
    }

    mutating func append(_ bytes: UnsafeBufferPointer<UInt8>, stream: LogLine.Stream) {
        totalBytes += bytes.count
        if truncated { return }
        var line = partial[stream] ?? []
        for b in bytes {
            if b == 10 {
                emit(line, stream)
                line.removeAll(keepingCapacity: true)
                if truncated { break }
            } else if line.count < spec.maximumLineBytes {
                line.append(b)
            }
        }
        partial[stream] = truncated ? [] : line
    }

    mutating func flush() {
        for (stream, line) in partial where !line.isEmpty { emit(line, stream) }
        partial = [:]
    }

    private mutating func emit(_ bytes: [UInt8], _ stream: LogLine.Stream) {
        guard !truncated else { return }
        var text = String(decoding: bytes, as: UTF8.self)
        if text.hasSuffix("\r") { text.removeLast() }
        let masked = spec.masker.mask(text)
        // The limit counts what is stored: each line gains a timestamp and the stream's name.
        keptBytes += masked.utf8.count + LogLine.storedOverheadBytes
        onLine(LogLine(time: StageProcess.now(), stream: stream, text: masked))
        if keptBytes >= spec.outputLimitBytes {
            truncated = true
            onLine(LogLine(time: StageProcess.now(), stream: .sluice,
                           text: "output limit of \(spec.outputLimitBytes) bytes reached; the rest of the output is read and dropped"))
        }
    }
}
