import CGit2
import FoundationEssentials
import SluiceCore

/// SSH host keys Sluice trusts, read from an OpenSSH `known_hosts` file
/// (`host[,host] keytype base64` lines; `[host]:port` for other ports). An SSH remote
/// whose key is not listed is refused: there is no trust-on-first-use.
/// Hashed (`|1|...`) entries are not supported; write plain host names.
public struct KnownHosts: Sendable {
    struct Entry: Sendable {
        var patterns: [String]
        var key: [UInt8]
    }

    var entries: [Entry]

    public init(text: String) {
        entries = text.split(separator: "\n").compactMap { raw in
            let line = String(raw).trimmingWhitespace()
            guard !line.isEmpty, !line.hasPrefix("#") else { return nil }
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 3, !fields[0].hasPrefix("|"),
                  let key = Data(base64Encoded: String(fields[2])) else { return nil }
            return Entry(patterns: fields[0].split(separator: ",").map(String.init), key: [UInt8](key))
        }
    }

    public init(path: String) {
        let data = FileManager.default.contents(atPath: path) ?? Data()
        self.init(text: String(decoding: data, as: UTF8.self))
    }

    /// Whether `key` (the raw SSH key blob) is trusted for `host` on `port`.
    public func trusts(host: String, port: Int, key: [UInt8]) -> Bool {
        let name = port == 22 ? host : "[\(host)]:\(port)"
        return entries.contains { $0.patterns.contains(name) && $0.key == key }
    }
}

/// libgit2's certificate check: SSH host keys must be in the known hosts; TLS
/// certificates are left to libgit2's own verification (never skipped).
let certificateCheckCallback: git_transport_certificate_check_cb = { cert, valid, host, payload in
    guard let cert, let payload else { return GIT_PASSTHROUGH.rawValue }
    guard cert.pointee.cert_type == GIT_CERT_HOSTKEY_LIBSSH2 else { return GIT_PASSTHROUGH.rawValue }
    let state = Unmanaged<CredentialPayload>.fromOpaque(payload).takeUnretainedValue()
    let hostkey = UnsafeRawPointer(cert).assumingMemoryBound(to: git_cert_hostkey.self).pointee
    guard hostkey.type.rawValue & GIT_CERT_SSH_RAW.rawValue != 0, let raw = hostkey.hostkey else {
        state.hostKeyProblem = "the server sent no raw host key to check"
        return GIT_ECERTIFICATE.rawValue
    }
    let key = [UInt8](UnsafeRawBufferPointer(start: raw, count: hostkey.hostkey_len))
    let name = host.map { String(cString: $0) } ?? ""
    if state.knownHosts.trusts(host: name, port: state.port, key: key) { return 0 }
    let file = state.credentials.knownHostsPath ?? "(none: set SLUICE_GIT_KNOWN_HOSTS)"
    state.hostKeyProblem = "unknown SSH host key for \(name):\(state.port); add it to \(file), e.g. with 'ssh-keyscan -p \(state.port) \(name)'"
    _ = valid
    return GIT_ECERTIFICATE.rawValue
}
