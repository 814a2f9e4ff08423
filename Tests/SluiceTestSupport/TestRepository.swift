import Foundation

/// A real git repository made by a test with the real `git` (argv only, never a shell).
public final class TestRepository: @unchecked Sendable {
    // @unchecked: used by one test at a time; the folder is owned by `directory`.
    public let directory: TemporaryDirectory
    public var path: String { directory.path }

    public init(branch: String = "main", bare: Bool = false) throws {
        directory = TemporaryDirectory(prefix: "sluice-repo")
        try git(["init", "-q", "-b", branch] + (bare ? ["--bare"] : []))
    }

    static let identity = [
        "GIT_AUTHOR_NAME": "Sluice Test", "GIT_AUTHOR_EMAIL": "test@example.com",
        "GIT_COMMITTER_NAME": "Sluice Test", "GIT_COMMITTER_EMAIL": "test@example.com",
        "GIT_CONFIG_NOSYSTEM": "1", "HOME": NSTemporaryDirectory(),
    ]

    /// Runs git in the repository and returns its trimmed stdout; throws on failure.
    @discardableResult
    public func git(_ arguments: [String]) throws -> String {
        let r = try ProcessRunner.run("git", arguments, cwd: path, environment: Self.identity)
        guard r.status == 0 else {
            throw NSError(domain: "git", code: Int(r.status), userInfo: [NSLocalizedDescriptionKey: "git \(arguments.joined(separator: " ")): \(r.stderr)"])
        }
        return r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    public func write(_ relative: String, _ content: String) { directory.write(relative, content) }
    public func write(_ relative: String, bytes: [UInt8]) { directory.write(relative, bytes: bytes) }

    public func remove(_ relative: String) throws { try FileManager.default.removeItem(atPath: path + "/" + relative) }

    /// Stages everything and commits; returns the new commit id.
    @discardableResult
    public func commit(_ message: String, files: [String: String] = [:]) throws -> String {
        for (file, content) in files { write(file, content) }
        try git(["add", "-A"])
        try git(["commit", "-q", "--allow-empty", "-m", message])
        return try git(["rev-parse", "HEAD"])
    }
}

/// `git daemon` serving a folder of repositories on 127.0.0.1 (git:// protocol).
public final class GitDaemon: @unchecked Sendable {
    public let process: BackgroundProcess
    public let port: Int

    /// - Parameter allowPush: serve `git push` too (receive-pack), for Sluice's notes and branches.
    public init(basePath: String, allowPush: Bool = false) throws {
        port = try FreePort.next()
        process = try BackgroundProcess("git", ["daemon", "--reuseaddr", "--export-all", "--listen=127.0.0.1",
                                                "--port=\(port)", "--base-path=\(basePath)", "--informative-errors"]
                                                + (allowPush ? ["--enable=receive-pack"] : []) + [basePath])
        try FreePort.waitUntilListening(port)
    }

    public func url(_ name: String) -> String { "git://127.0.0.1:\(port)/\(name)" }
}

public enum FreePort {
    /// A TCP port on 127.0.0.1 that nothing listens on right now.
    public static func next() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        return Int(UInt16(bigEndian: addr.sin_port))
    }

    /// Polls until something accepts connections on the port (at most 10 s).
    public static func waitUntilListening(_ port: Int) throws {
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var addr = sockaddr_in()
            addr.sin_family = sa_family_t(AF_INET)
            addr.sin_addr.s_addr = inet_addr("127.0.0.1")
            addr.sin_port = in_port_t(UInt16(port).bigEndian)
            let ok = withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            close(fd)
            if ok == 0 { return }
            usleep(50_000)
        }
        throw NSError(domain: "FreePort", code: 1, userInfo: [NSLocalizedDescriptionKey: "nothing listens on 127.0.0.1:\(port)"])
    }
}

/// A working repository whose commits are pushed to a bare copy served by `git daemon`
/// (push enabled, so Sluice can publish its notes and branches): a remote as the controller sees one.
public final class ServedRepository: @unchecked Sendable {
    // @unchecked: used by one test at a time.
    public let work: TestRepository
    public let served: TemporaryDirectory
    public let daemon: GitDaemon
    public var bare: String { served.path + "/project.git" }
    public var url: String { daemon.url("project.git") }

    public init() throws {
        work = try TestRepository()
        served = TemporaryDirectory(prefix: "sluice-served")
        try work.commit("empty start")
        try ProcessRunner.run("git", ["clone", "-q", "--bare", work.path, served.path + "/project.git"])
        try ProcessRunner.run("git", ["-C", served.path + "/project.git", "config", "http.receivepack", "true"])
        daemon = try GitDaemon(basePath: served.path, allowPush: true)
    }

    /// Commits in the working repository and pushes the branch (and any extra refs) to the served copy.
    @discardableResult
    public func commit(_ message: String, files: [String: String] = [:], refs: [String] = []) throws -> String {
        let id = try work.commit(message, files: files)
        try work.git(["push", "-q", "-f", bare, "main"] + refs)
        return id
    }

    /// Runs git in the served (bare) repository.
    @discardableResult
    public func servedGit(_ arguments: [String]) throws -> String {
        let r = try ProcessRunner.run("git", ["-C", bare] + arguments)
        guard r.status == 0 else {
            throw NSError(domain: "git", code: Int(r.status), userInfo: [NSLocalizedDescriptionKey: "git \(arguments.joined(separator: " ")): \(r.stderr)"])
        }
        return r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
