import CProcess
import Foundation
import SluiceCore

/// A real PostgreSQL (Debian's `postgresql` package) on 127.0.0.1 and a free port, in a
/// temporary folder: `initdb`, then `pg_ctl start` (which returns once the server accepts
/// connections), stopped in `deinit`. As root, the server runs as the `postgres` user (it
/// refuses root). Each `createDatabase()` is a new empty database on it.
public final class PostgresServer: @unchecked Sendable {
    // @unchecked: every property is immutable; the server is stopped once, in deinit.
    public let port: Int
    public let directory = TemporaryDirectory(prefix: "sluice-postgres")
    private let bin: String
    private let asPostgres: [String]
    private let counter = NSLock()
    nonisolated(unsafe) private var databases = 0

    public static let user = "sluice"

    /// The folder of `initdb`, `pg_ctl` and `postgres`: on PATH, else Debian's newest.
    public static var binaries: String? {
        if let initdb = try? ProcessRunner.which("initdb") {
            // The real folder (a link on PATH may stand for initdb alone).
            return URL(fileURLWithPath: initdb).resolvingSymlinksInPath().deletingLastPathComponent().path
        }
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []
        return versions.compactMap(Int.init).sorted().last.map { "/usr/lib/postgresql/\($0)/bin" }
    }

    public static var isInstalled: Bool { binaries != nil }

    public init() throws {
        guard let bin = Self.binaries else {
            throw Self.error("PostgreSQL is not installed (no initdb on PATH or under /usr/lib/postgresql): apt-get install postgresql")
        }
        self.bin = bin
        if getuid() == 0 {
            guard let account = getpwnam("postgres") else { throw Self.error("running as root, and there is no 'postgres' user to run the server as") }
            asPostgres = ["/usr/bin/setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups"]
            guard chown(directory.path, account.pointee.pw_uid, account.pointee.pw_gid) == 0 else { throw Self.error("cannot chown \(directory.path)") }
        } else {
            asPostgres = []
        }
        port = try FreePort.next()
        try run("initdb", ["-D", directory.path + "/data", "-U", Self.user, "--auth=trust", "--locale=C", "-E", "UTF8", "--no-sync"])
        try run("pg_ctl", ["-D", directory.path + "/data", "-l", directory.path + "/server.log", "-w", "-t", "30", "-o",
                           "-p \(port) -c listen_addresses=127.0.0.1 -k \(directory.path) -c fsync=off -c max_connections=200", "start"])
    }

    deinit {
        _ = try? run("pg_ctl", ["-D", directory.path + "/data", "-m", "immediate", "-w", "stop"])
    }

    /// A new empty database, and the settings that reach it (no TLS on loopback).
    public func createDatabase() throws -> DatabaseSettings {
        let name = counter.withLock { () -> String in
            databases += 1
            return "sluice_test_\(databases)"
        }
        try psql("CREATE DATABASE \(name)")
        return DatabaseSettings(host: "127.0.0.1", port: port, user: Self.user, database: name, tls: .disable)
    }

    /// Runs SQL with `psql` on the `postgres` database; returns its unaligned output.
    @discardableResult
    public func psql(_ sql: String, database: String = "postgres") throws -> String {
        let result = try ProcessRunner.run(bin + "/psql", ["-h", "127.0.0.1", "-p", "\(port)", "-U", Self.user, "-d", database,
                                                           "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", sql])
        guard result.status == 0 else { throw Self.error("psql \(sql): \(result.stderr)") }
        return result.stdout
    }

    /// The URL of a database on this server, as `SLUICE_DATABASE_URL` takes it.
    public func url(_ settings: DatabaseSettings) -> String {
        "postgres://\(Self.user)@127.0.0.1:\(port)/\(settings.database)?sslmode=disable"
    }

    /// Runs a PostgreSQL tool with its output appended to `tools.log` and no other descriptor
    /// of this process: the server `pg_ctl` starts outlives it, and would hold on to whatever it
    /// inherited (a pipe another test reads to its end, Foundation's process-exit socket).
    private func run(_ tool: String, _ arguments: [String]) throws {
        let command = asPostgres + [bin + "/" + tool] + arguments
        let logPath = directory.path + "/tools.log"
        let log = open(logPath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard log >= 0 else { throw Self.error("cannot open \(logPath)") }
        defer { close(log) }
        let argv = command.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var failedErrno: Int32 = 0
        var failedStep: UnsafePointer<CChar>?
        let pid = sluice_spawn(command[0], argv, environ, directory.path, log, log, -1, &failedErrno, &failedStep)
        guard pid > 0 else {
            throw Self.error("cannot start \(command[0]) (\(failedStep.map { String(cString: $0) } ?? "spawn")): \(String(cString: strerror(failedErrno)))")
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1, errno == EINTR {}
        guard status == 0 else {
            let output = [logPath, directory.path + "/server.log"].compactMap { try? String(contentsOfFile: $0, encoding: .utf8) }.joined(separator: "\n")
            throw Self.error("\(tool) failed (wait status \(status)): \(output)")
        }
    }

    private static func error(_ message: String) -> NSError {
        NSError(domain: "PostgresServer", code: 1, userInfo: [NSLocalizedDescriptionKey: message])
    }
}
