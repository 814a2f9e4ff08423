import Foundation

/// A server process a test starts on 127.0.0.1 and always stops. It runs in its own
/// process group with a clean signal mask, and stopping kills the whole group (so
/// wrappers such as `git daemon`, which forks `git-daemon`, leave nothing behind).
public final class BackgroundProcess: @unchecked Sendable {
    // @unchecked: `pid` is immutable; stop() is idempotent and called from deinit; the output is
    // read by the one test that waits on it.
    public let pid: pid_t
    private var stopped = false
    private let stdoutFD: Int32
    public private(set) var readyLine: String = ""
    /// Its stdout so far, and where the line after the last one `waitForLine` found starts.
    private var output: [UInt8] = []
    private var consumed = 0

    /// Starts `executable`; when `readyPrefix` is given, waits (up to 20 s) for a
    /// stdout line starting with it and keeps the rest of that line in `readyLine`.
    /// - Parameters:
    ///   - environment: variables added to (or replacing) this process's environment.
    ///   - stderrFile: where its stderr goes (default: nowhere), e.g. to read the controller's log.
    public init(_ executable: String, _ arguments: [String], readyPrefix: String? = nil, environment: [String: String] = [:],
                stderrFile: String? = nil) throws {
        let path = executable.hasPrefix("/") ? executable : try ProcessRunner.which(executable)
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw Self.error("pipe failed") }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, fds[1], 1)
        posix_spawn_file_actions_addopen(&actions, 2, stderrFile ?? "/dev/null", O_WRONLY | (stderrFile == nil ? 0 : O_CREAT | O_APPEND), 0o644)
        posix_spawn_file_actions_addclose(&actions, fds[0])
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK))
        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var child: pid_t = 0
        var env = ProcessInfo.processInfo.environment
        for (k, v) in environment { env[k] = v }
        let envp = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { envp.forEach { free($0) } }
        let rc = posix_spawn(&child, path, &actions, &attributes, argv, envp)
        close(fds[1])
        guard rc == 0 else {
            close(fds[0])
            throw Self.error("cannot start \(path): \(String(cString: strerror(rc)))")
        }
        pid = child
        stdoutFD = fds[0]
        if let readyPrefix {
            do { readyLine = try waitForLine(prefix: readyPrefix) } catch {
                stop()
                throw error
            }
        }
    }

    /// Waits (up to `timeout` seconds) for a stdout line starting with `prefix`, after the line
    /// the last wait found, and returns the rest of it.
    public func waitForLine(prefix: String, timeout: Double = 20) throws -> String {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            // Only complete lines: a line still being written may be cut short.
            while let end = output[consumed...].firstIndex(of: 10) {
                let line = String(decoding: output[consumed..<end], as: UTF8.self)
                consumed = end + 1
                if line.hasPrefix(prefix) { return String(line.dropFirst(prefix.count)) }
            }
            guard Date() < deadline else { break }
            var p = pollfd(fd: stdoutFD, events: Int16(POLLIN), revents: 0)
            guard poll(&p, 1, 200) >= 0 else { break }
            if p.revents == 0 { continue }
            var chunk = [UInt8](repeating: 0, count: 4096)
            let n = read(stdoutFD, &chunk, chunk.count)
            if n <= 0 { break }
            output += chunk[0..<n]
        }
        throw Self.error("the process did not print '\(prefix)'; it printed: \(String(decoding: output, as: UTF8.self))")
    }

    public func stop() {
        guard !stopped else { return }
        stopped = true
        kill(-pid, SIGKILL)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        close(stdoutFD)
    }

    deinit { stop() }

    private static func error(_ message: String) -> NSError {
        NSError(domain: "BackgroundProcess", code: 1, userInfo: [NSLocalizedDescriptionKey: message])
    }
}
