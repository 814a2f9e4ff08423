/// A commit's signature as git stores it, and the bytes it covers.
public struct CommitSignature: Hashable, Sendable {
    public enum Format: String, Sendable { case openPGP = "gpg", ssh }

    public var signature: [UInt8]
    public var signedData: [UInt8]

    public init(signature: [UInt8], signedData: [UInt8]) {
        self.signature = signature
        self.signedData = signedData
    }

    /// From the armour's first line; nil for a kind Sluice does not verify (X.509).
    public var format: Format? {
        let head = String(decoding: signature.prefix(40), as: UTF8.self)
        if head.hasPrefix("-----BEGIN PGP SIGNATURE-----") { return .openPGP }
        if head.hasPrefix("-----BEGIN SSH SIGNATURE-----") { return .ssh }
        return nil
    }
}
