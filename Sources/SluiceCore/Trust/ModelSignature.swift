public import Crypto
import FoundationEssentials

/// A model's files signed in the OpenSSF model-signing format (v1.0), so that
/// `model_signing verify key --signature <bundle> --public_key <pem> <model folder>` accepts it:
/// a Sigstore bundle (v0.3, key-based: no transparency log) holding a DSSE envelope around an
/// in-toto Statement v1 whose predicate (`https://model_signing/signature/v1.0`) lists every
/// file's SHA-256 under the `files` serialization, and whose one subject is the model's name with
/// the SHA-256 over those digests in order. Signed with ECDSA P-256 over the DSSE PAE.
public enum ModelSignature {
    public struct File: Hashable, Sendable {
        /// Inside the model folder, `/`-separated.
        public var path: String
        /// Lower-case hex SHA-256 of the content.
        public var sha256: String

        public init(path: String, sha256: String) {
            self.path = path
            self.sha256 = sha256
        }
    }

    public static let bundleMediaType = "application/vnd.dev.sigstore.bundle.v0.3+json"
    public static let payloadType = "application/vnd.in-toto+json"
    public static let predicateType = "https://model_signing/signature/v1.0"

    /// The statement's JSON (the DSSE payload).
    public static func statement(model: String, files: [File]) -> [UInt8] {
        // The order model_signing lists resources in: by path, component by component.
        let sorted = files.sorted { $0.path.split(separator: "/").lexicographicallyPrecedes($1.path.split(separator: "/")) }
        var root = SHA256()
        for f in sorted { root.update(data: hexBytes(f.sha256)) }
        let statement: [String: JSON] = [
            "_type": .string("https://in-toto.io/Statement/v1"),
            "subject": .array([.object(["name": .string(model), "digest": .object(["sha256": .string(hex(Array(root.finalize())))])])]),
            "predicateType": .string(predicateType),
            "predicate": .object([
                "serialization": .object(["method": .string("files"), "hash_type": .string("sha256"), "allow_symlinks": .bool(false)]),
                "resources": .array(sorted.map { .object(["name": .string($0.path), "algorithm": .string("sha256"), "digest": .string($0.sha256)]) }),
            ]),
        ]
        return JSON.object(statement).encoded()
    }

    /// DSSE's pre-authentication encoding of a payload of `payloadType`.
    public static func pae(_ payload: [UInt8]) -> [UInt8] {
        Array("DSSEv1 \(payloadType.utf8.count) \(payloadType) \(payload.count) ".utf8) + payload
    }

    /// The bundle, as JSON text.
    public static func bundle(model: String, files: [File], key: P256.Signing.PrivateKey, keyID: String = "") throws -> String {
        let payload = statement(model: model, files: files)
        let signature = try key.signature(for: pae(payload))
        let bundle: JSON = .object([
            "mediaType": .string(bundleMediaType),
            "verificationMaterial": .object(["publicKey": .object(["hint": .string(keyHint(key.publicKey))]), "tlogEntries": .array([])]),
            "dsseEnvelope": .object([
                "payload": .string(Data(payload).base64EncodedString()),
                "payloadType": .string(payloadType),
                "signatures": .array([.object(["sig": .string(signature.derRepresentation.base64EncodedString()), "keyid": .string(keyID)])]),
            ]),
        ])
        return String(decoding: bundle.encoded(), as: UTF8.self)
    }

    /// Checks `bundle` against `key` and the files as they are now: nil when it holds, else why not.
    public static func problem(bundle text: String, key: P256.Signing.PublicKey, files: [File]) -> String? {
        struct Bundle: Decodable {
            struct Envelope: Decodable {
                struct Signature: Decodable { var sig: String }
                var payload: String
                var payloadType: String
                var signatures: [Signature]
            }
            var mediaType: String
            var dsseEnvelope: Envelope
        }
        let bundle: Bundle
        do { bundle = try JSONDecoder().decode(Bundle.self, from: Data(text.utf8)) } catch { return "the signature bundle cannot be read: \(error)" }
        guard bundle.mediaType == bundleMediaType, bundle.dsseEnvelope.payloadType == payloadType,
              let payload = Data(base64Encoded: bundle.dsseEnvelope.payload), let first = bundle.dsseEnvelope.signatures.first,
              let der = Data(base64Encoded: first.sig) else { return "the signature bundle is not a model-signing bundle" }
        let signature: P256.Signing.ECDSASignature
        do { signature = try P256.Signing.ECDSASignature(derRepresentation: der) } catch { return "the bundle's signature is malformed" }
        guard key.isValidSignature(signature, for: pae(Array(payload))) else { return "the bundle is not signed by this key" }
        let signed: [String: String]
        do {
            signed = Dictionary(try resources(Array(payload)).map { ($0.path, $0.sha256) }, uniquingKeysWith: { a, _ in a })
        } catch {
            return "the signed statement cannot be read: \(error)"
        }
        let now = Dictionary(files.map { ($0.path, $0.sha256) }, uniquingKeysWith: { a, _ in a })
        var problems: [String] = []
        for (path, digest) in signed.sorted(by: { $0.key < $1.key }) where now[path] != digest {
            problems.append(now[path] == nil ? "\(path) is missing" : "\(path) differs from what was signed")
        }
        for path in now.keys.sorted() where signed[path] == nil { problems.append("\(path) was not signed") }
        return problems.isEmpty ? nil : problems.joined(separator: "; ")
    }

    /// The files a bundle's statement lists (its signature is not checked: see `problem`).
    public static func files(inBundle text: String) throws -> [File] {
        struct Bundle: Decodable {
            struct Envelope: Decodable { var payload: String }
            var dsseEnvelope: Envelope
        }
        guard let payload = Data(base64Encoded: try JSONDecoder().decode(Bundle.self, from: Data(text.utf8)).dsseEnvelope.payload) else {
            throw LoadError(message: "the signature bundle's payload is not base64")
        }
        return try resources(Array(payload))
    }

    static func resources(_ statement: [UInt8]) throws -> [File] {
        struct Statement: Decodable {
            struct Predicate: Decodable {
                struct Resource: Decodable { var name: String; var digest: String }
                var resources: [Resource]
            }
            var predicate: Predicate
        }
        return try JSONDecoder().decode(Statement.self, from: Data(statement)).predicate.resources.map { File(path: $0.name, sha256: $0.digest) }
    }

    /// What model_signing records to find the key: SHA-256 (hex) of the public key's PEM
    /// (SubjectPublicKeyInfo, 64-character lines, as OpenSSL writes it).
    public static func keyHint(_ key: P256.Signing.PublicKey) -> String {
        let base64 = key.derRepresentation.base64EncodedString()
        var lines: [Substring] = []
        var rest = Substring(base64)
        while !rest.isEmpty {
            lines.append(rest.prefix(64))
            rest = rest.dropFirst(64)
        }
        let pem = "-----BEGIN PUBLIC KEY-----\n" + lines.joined(separator: "\n") + "\n-----END PUBLIC KEY-----\n"
        return hex(Array(SHA256.hash(data: Array(pem.utf8))))
    }

    static func hex(_ bytes: [UInt8]) -> String { ContentHash.hex(bytes) }

    static func hexBytes(_ text: String) -> [UInt8] {
        var out: [UInt8] = []
        var i = text.startIndex
        while i < text.endIndex, let j = text.index(i, offsetBy: 2, limitedBy: text.endIndex) {
            out.append(UInt8(text[i..<j], radix: 16) ?? 0)
            i = j
        }
        return out
    }
}
