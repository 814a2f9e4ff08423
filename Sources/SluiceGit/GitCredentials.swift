import CGit2

/// Where credentials for a remote come from. Values are never printed: errors name
/// the source (`SLUICE_GIT_TOKEN`), not the secret.
public struct GitCredentials: Sendable {
    public var username: String
    public var token: String?
    public var tokenSource: String?
    public var sshPrivateKeyPath: String?
    /// OpenSSH known_hosts file that SSH remotes' host keys are checked against.
    public var knownHostsPath: String?

    public init(username: String = "x-access-token", token: String? = nil, tokenSource: String? = nil,
                sshPrivateKeyPath: String? = nil, knownHostsPath: String? = nil) {
        self.username = username
        self.token = token
        self.tokenSource = tokenSource
        self.sshPrivateKeyPath = sshPrivateKeyPath
        self.knownHostsPath = knownHostsPath
    }

    /// From `SLUICE_GIT_TOKEN` (+ `SLUICE_GIT_USERNAME`), `SLUICE_GIT_SSH_KEY` and
    /// `SLUICE_GIT_KNOWN_HOSTS` (default `~/.ssh/known_hosts`).
    public static func fromEnvironment(_ env: [String: String]) -> GitCredentials {
        GitCredentials(username: env["SLUICE_GIT_USERNAME"] ?? "x-access-token",
                       token: env["SLUICE_GIT_TOKEN"].flatMap { $0.isEmpty ? nil : $0 },
                       tokenSource: env["SLUICE_GIT_TOKEN"] == nil ? nil : "SLUICE_GIT_TOKEN",
                       sshPrivateKeyPath: env["SLUICE_GIT_SSH_KEY"],
                       knownHostsPath: env["SLUICE_GIT_KNOWN_HOSTS"] ?? env["HOME"].map { $0 + "/.ssh/known_hosts" })
    }

    /// What was tried, for error messages.
    var described: String {
        var parts: [String] = []
        if let tokenSource { parts.append("token from \(tokenSource) as user '\(username)'") }
        if let sshPrivateKeyPath { parts.append("SSH key \(sshPrivateKeyPath)") }
        return parts.isEmpty ? "no credentials (set SLUICE_GIT_TOKEN or SLUICE_GIT_SSH_KEY)" : parts.joined(separator: ", ")
    }
}

/// Passed to libgit2's credential callback; counts attempts so a rejected credential
/// is not offered forever.
final class CredentialPayload {
    let credentials: GitCredentials
    /// Read on first use: only SSH remotes check host keys.
    lazy var knownHosts: KnownHosts = credentials.knownHostsPath.map { KnownHosts(path: $0) } ?? KnownHosts(text: "")
    /// The remote's port, for matching `[host]:port` known_hosts entries.
    let port: Int
    var attempts = 0
    var hostKeyProblem: String?

    init(_ credentials: GitCredentials, url: String) {
        self.credentials = credentials
        port = CredentialPayload.port(of: url)
    }

    /// The port in `ssh://user@host:port/path`, else 22.
    static func port(of url: String) -> Int {
        guard url.hasPrefix("ssh://"), let hostStart = url.dropFirst(6).split(separator: "/").first else { return 22 }
        let hostPart = hostStart.split(separator: "@").last ?? hostStart
        if let colon = hostPart.lastIndex(of: ":"), let port = Int(hostPart[hostPart.index(after: colon)...]) { return port }
        return 22
    }
}

let credentialCallback: git_credential_acquire_cb = { out, _, usernameFromURL, allowed, payload in
    guard let payload, let out else { return GIT_PASSTHROUGH.rawValue }
    let state = Unmanaged<CredentialPayload>.fromOpaque(payload).takeUnretainedValue()
    state.attempts += 1
    if state.attempts > 1 { return GIT_EAUTH.rawValue }
    let creds = state.credentials
    if allowed & GIT_CREDENTIAL_SSH_KEY.rawValue != 0, let key = creds.sshPrivateKeyPath {
        let user = usernameFromURL.map { String(cString: $0) } ?? "git"
        return git_credential_ssh_key_new(out, user, nil, key, nil)
    }
    if allowed & GIT_CREDENTIAL_USERPASS_PLAINTEXT.rawValue != 0, let token = creds.token {
        return git_credential_userpass_plaintext_new(out, creds.username, token)
    }
    return GIT_PASSTHROUGH.rawValue
}
