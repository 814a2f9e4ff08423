/// Which commits may run (`verify:` of a repository in the controller configuration): those
/// signed by a trusted key. `head` checks the production branch's tip; `all` every commit a
/// push brings (a verified merge over unverified commits is not enough).
public struct SourceVerification: Hashable, Sendable {
    public enum Mode: String, CaseIterable, Hashable, Sendable { case head, all }

    public var mode = Mode.head
    /// OpenPGP public keys, armoured or binary: a file, or a folder of them (a mounted Secret).
    public var gpgKeys: String?
    /// An SSH allowed-signers file (`ssh-keygen -Y verify`'s format; namespace `git`).
    public var sshAllowedSigners: String?

    public init(mode: Mode = .head, gpgKeys: String? = nil, sshAllowedSigners: String? = nil) {
        self.mode = mode
        self.gpgKeys = gpgKeys
        self.sshAllowedSigners = sshAllowedSigners
    }

    /// What verifying one commit found.
    public enum Outcome: Hashable, Sendable {
        /// Signed by a trusted key: who (the key's user id or the SSH principal) and its fingerprint.
        case verified(signer: String)
        /// Why it may not run: unsigned, an untrusted or unknown key, a bad signature.
        case refused(String)
    }
}
