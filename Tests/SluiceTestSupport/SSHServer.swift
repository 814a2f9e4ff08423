import Foundation

/// A real OpenSSH server on 127.0.0.1 for git-over-ssh tests: its own host key, one
/// authorised user key, public-key login only. Needs root (as CI runs) and sshd.
public final class SSHServer: @unchecked Sendable {
    public let directory = TemporaryDirectory(prefix: "sluice-sshd")
    public let port: Int
    public let process: BackgroundProcess
    /// The private key that may log in.
    public var userKey: String { directory.path + "/userkey" }
    /// A known_hosts file listing this server's host key.
    public var knownHosts: String { directory.path + "/known_hosts" }

    public static var isAvailable: Bool {
        FileManager.default.isExecutableFile(atPath: "/usr/sbin/sshd") && ProcessRunner.has("ssh-keygen") && getuid() == 0
    }

    public init() throws {
        let d = directory.path
        for key in ["hostkey", "userkey"] {
            try ProcessRunner.run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", "\(d)/\(key)"])
        }
        try FileManager.default.copyItem(atPath: "\(d)/userkey.pub", toPath: "\(d)/authorized_keys")
        try FileManager.default.createDirectory(atPath: "/run/sshd", withIntermediateDirectories: true)
        port = try FreePort.next()
        directory.write("sshd_config", """
        Port \(port)
        ListenAddress 127.0.0.1
        HostKey \(d)/hostkey
        AuthorizedKeysFile \(d)/authorized_keys
        PasswordAuthentication no
        KbdInteractiveAuthentication no
        PubkeyAuthentication yes
        PermitRootLogin prohibit-password
        StrictModes no
        UsePAM no
        PidFile \(d)/sshd.pid

        """)
        process = try BackgroundProcess("/usr/sbin/sshd", ["-D", "-e", "-f", "\(d)/sshd_config"])
        try FreePort.waitUntilListening(port)
        let hostKey = try String(contentsOfFile: "\(d)/hostkey.pub", encoding: .utf8).split(separator: " ")
        directory.write("known_hosts", "[127.0.0.1]:\(port) \(hostKey[0]) \(hostKey[1])\n")
    }

    /// `ssh://root@127.0.0.1:PORT/<absolute path>`
    public func url(_ absolutePath: String) -> String { "ssh://root@127.0.0.1:\(port)\(absolutePath)" }
}
