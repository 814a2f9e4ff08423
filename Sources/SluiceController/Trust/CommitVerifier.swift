import FoundationEssentials
public import SluiceCore
public import SluiceGit
import SluiceRunner

/// Checks that commits are signed by a key `verify:` trusts: OpenPGP signatures with `gpgv`
/// against the configured keys only (a keyring made for the check, never the controller's
/// own), SSH signatures with `ssh-keygen -Y` against the allowed-signers file (namespace
/// `git`), as `git verify-commit` does. The signature and the signed bytes come from libgit2.
public struct CommitVerifier: Sendable {
    public let settings: SourceVerification
    /// Sluice's environment (PATH for gpgv and ssh-keygen).
    let environment: [String: String]

    public init(settings: SourceVerification, environment: [String: String]) {
        self.settings = settings
        self.environment = environment
    }

    /// Verifies what a move of a ref from `base` to `head` brings: the head (`mode: head`), or
    /// every commit not reachable from `base` (`mode: all`; the head alone when there is no base).
    /// The first refusal decides.
    public func verify(from base: String?, to head: String, in git: GitRepository) throws -> SourceVerification.Outcome {
        let commits = settings.mode == .all && base != nil ? try git.commits(from: base, to: head) : [head]
        var last = SourceVerification.Outcome.refused("no commit to verify")
        for commit in commits {
            last = try verify(commit, in: git)
            if case .refused = last { return last }
        }
        return last
    }

    public func verify(_ commit: String, in git: GitRepository) throws -> SourceVerification.Outcome {
        let short = CommitID(commit).short
        guard let signature = try git.signature(of: commit) else { return .refused("commit \(short) is not signed") }
        let temporary = TemporaryFolder(under: FileManager.default.temporaryDirectory.path, prefix: "sluice-verify")
        let folder = temporary.path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        defer { temporary.remove() }  // one that cannot be removed is said on stderr
        try Data(signature.signature).write(to: URL(fileURLWithPath: folder + "/signature"))
        try Data(signature.signedData).write(to: URL(fileURLWithPath: folder + "/signed"))
        switch signature.format {
        case .openPGP?: return try openPGP(short, folder: folder)
        case .ssh?: return try ssh(short, folder: folder)
        case nil: return .refused("commit \(short) has a signature Sluice does not verify (only OpenPGP and SSH signatures are)")
        }
    }

    private func run(_ arguments: [String], in folder: String) throws -> Command.Result {
        do { return try Command.run(arguments, workingDirectory: folder, environment: environment, timeoutSeconds: 30) } catch {
            throw LoadError(message: "\(arguments[0]) could not be started: \(error)", hint: "install it (Debian: gpgv and gnupg for OpenPGP, openssh-client for SSH)")
        }
    }

    private func openPGP(_ short: String, folder: String) throws -> SourceVerification.Outcome {
        guard let keys = settings.gpgKeys else { return .refused("commit \(short) is signed with OpenPGP, and verify: names no gpg-keys") }
        // A keyring of exactly the configured keys (armoured ones converted), in the check's own home.
        var keyrings: [String] = []
        for (n, file) in try Self.files(keys).enumerated() {
            let keyring = folder + "/key\(n).gpg"
            let head = FileManager.default.contents(atPath: file).map { String(decoding: $0.prefix(64), as: UTF8.self) } ?? ""
            if head.contains("-----BEGIN PGP PUBLIC KEY BLOCK-----") {
                let r = try run(["gpg", "--batch", "--homedir", folder, "--dearmor", "--output", keyring, file], in: folder)
                guard r.status == 0 else { throw LoadError(message: "the OpenPGP key \(file) cannot be read: \(r.stderr)") }
            } else {
                try FileManager.default.copyItem(atPath: file, toPath: keyring)
            }
            keyrings.append(keyring)
        }
        guard !keyrings.isEmpty else { throw LoadError(message: "verify.gpg-keys \(keys) holds no key files") }
        let r = try run(["gpgv", "--homedir", folder, "--status-fd", "1"] + keyrings.flatMap { ["--keyring", $0] } + [folder + "/signature", folder + "/signed"],
                        in: folder)
        let status = r.stdout.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }.filter { $0.first == "[GNUPG:]" }
        func line(_ key: String) -> [String]? { status.first { $0.count > 1 && $0[1] == key } }
        if r.status == 0, let valid = line("VALIDSIG"), valid.count > 2 {
            let who = line("GOODSIG").map { $0.dropFirst(3).joined(separator: " ") } ?? ""
            return .verified(signer: (who.isEmpty ? "" : who + ", ") + "OpenPGP key " + valid[2])
        }
        if let missing = line("NO_PUBKEY"), missing.count > 2 {
            return .refused("commit \(short) is signed by OpenPGP key \(missing[2]), which is not among the trusted keys (\(keys))")
        }
        for (key, why) in [("EXPKEYSIG", "an expired key"), ("REVKEYSIG", "a revoked key"), ("BADSIG", "a bad signature"), ("EXPSIG", "an expired signature")] {
            if line(key) != nil { return .refused("commit \(short) has \(why)") }
        }
        return .refused("commit \(short): gpgv did not verify its signature: " + r.stderr.split(separator: "\n").suffix(2).joined(separator: "; "))
    }

    private func ssh(_ short: String, folder: String) throws -> SourceVerification.Outcome {
        guard let allowed = settings.sshAllowedSigners else { return .refused("commit \(short) is signed with SSH, and verify: names no ssh-allowed-signers") }
        guard FileManager.default.isReadableFile(atPath: allowed) else { throw LoadError(message: "verify.ssh-allowed-signers \(allowed) cannot be read") }
        let found = try run(["ssh-keygen", "-Y", "find-principals", "-f", allowed, "-s", folder + "/signature"], in: folder)
        guard found.status == 0, let principal = found.stdout.split(separator: "\n").first.map(String.init) else {
            return .refused("commit \(short) is signed by an SSH key that no entry of \(allowed) allows")
        }
        // The signed bytes go to ssh-keygen's standard input; every value is an argument, never shell text.
        let checked = try run(["sh", "-c", "exec ssh-keygen -Y verify -f \"$1\" -I \"$2\" -n git -s \"$3\" < \"$4\"", "sh",
                               allowed, principal, folder + "/signature", folder + "/signed"], in: folder)
        guard checked.status == 0 else {
            return .refused("commit \(short): the SSH signature of \(principal) does not verify: \(checked.stderr.split(separator: "\n").first ?? "")")
        }
        let key = checked.stdout.split(separator: " ").last.map { String($0).trimmingCharacters(in: .whitespacesAndNewlines) } ?? ""
        return .verified(signer: "\(principal), SSH key \(key)")
    }

    /// A file, or the regular files of a folder (a mounted Secret's keys), sorted.
    static func files(_ path: String) throws -> [String] {
        var isFolder = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
            throw LoadError(message: "verify.gpg-keys \(path) does not exist")
        }
        guard isFolder else { return [path] }
        return try FileManager.default.contentsOfDirectory(atPath: path).filter { !$0.hasPrefix(".") }.sorted()
            .map { path + "/" + $0 }.filter { FileManager.default.isReadableFile(atPath: $0) && !Self.isFolder($0) }
    }

    static func isFolder(_ path: String) -> Bool {
        var isFolder = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) && isFolder
    }
}
