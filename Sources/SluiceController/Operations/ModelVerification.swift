import Crypto
import FoundationEssentials
public import SluiceCore
import SluiceStore

/// `sluice verify-model`: re-hashes a version's model files as the artifact store holds them
/// now and checks them against the signature the gate made (`gate.signing`) with a public key.
public enum ModelVerification {
    public struct Result: Sendable {
        public var run: Int64
        public var files: Int
        /// nil: the signature holds for these files and this key.
        public var problem: String?
    }

    public static func verify(model: String, version: String, publicKeyPEM: String, stateDirectory: String) throws -> Result {
        let store = try RunHistory(stateDirectory: stateDirectory).store
        guard let record = try store.modelVersions(model: model).first(where: { $0.version == version }) else {
            throw LoadError(message: "\(model) has no version \(version) in \(stateDirectory)", hint: "sluice status lists the versions")
        }
        guard let run = record.runId, let digest = record.artifactDigest else {
            throw LoadError(message: "\(model) version \(version) has no model files in the artifact store")
        }
        let key: P256.Signing.PublicKey
        do { key = try P256.Signing.PublicKey(pemRepresentation: publicKeyPEM) } catch {
            throw LoadError(message: "the public key is not an ECDSA P-256 public key in PEM (\(error))", hint: "openssl ec -in signing.pem -pubout")
        }
        let (files, problem) = try check(run: run, digest: digest, key: key, store: store)
        return Result(run: run, files: files, problem: problem)
    }

    /// Run `run`'s model output `digest`, hashed again from the artifact store, against the
    /// signature stored with the run: how many files, and what does not hold (nil: it holds).
    static func check(run: Int64, digest: String, key: P256.Signing.PublicKey, store: RunStore) throws -> (files: Int, problem: String?) {
        guard let artifact = try store.artifacts(of: run).first(where: { $0.digest == digest }) else {
            throw LoadError(message: "run \(run) stored no model output \(digest)")
        }
        guard let bundle = try ModelSigning.bundle(run: run, store: store) else {
            return (0, "run \(run)'s model was not signed (gate.signing was not set when it was gated)")
        }
        let artifacts = ArtifactStore(stateDirectory: store.stateDirectory)
        let stored = try artifacts.files(of: digest, kind: artifact.kind, relative: artifact.path)
        let files = try stored.map { ModelSignature.File(path: $0.path, sha256: try artifacts.rehash($0)) }
        return (files.count, ModelSignature.problem(bundle: bundle, key: key, files: files))
    }
}
