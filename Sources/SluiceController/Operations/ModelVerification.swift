import Crypto
import FoundationEssentials
public import SluiceCore
import SluiceRegistry
import SluiceStore

extension ModelOperations {
    /// Checks `version` of the model against its signature, with the files the registry
    /// `sluice.yaml` names serves now.
    public func verifyModel(version: String, publicKeyPEM: String) throws -> ModelVerification.Result {
        let key = try ModelVerification.publicKey(publicKeyPEM)
        let registry = try promotion.registry
        guard let registered = try registry.version(model: model, version: version) else {
            throw LoadError(message: "\(model) has no version \(version) in the \(registry.kind) registry", hint: "sluice status lists the versions")
        }
        guard let run = registered.runID else { throw LoadError(message: "\(model) version \(version) was not made by a Sluice run: nothing signed it") }
        if let served = try registry.servedFiles(of: registered) {
            guard let bundle = try ModelSigning.bundle(run: run, store: store) else {
                return ModelVerification.Result(run: run, files: 0, source: registry.kind, problem: "run \(run)'s model was not signed (gate.signing was not set when it was gated)")
            }
            return ModelVerification.Result(run: run, files: served.count, source: registry.kind,
                                            problem: ModelSignature.problem(bundle: bundle, key: key, files: served))
        }
        guard let digest = registered.artifactDigest else { throw LoadError(message: "\(model) version \(version) has no model files in the artifact store") }
        let (files, problem) = try ModelVerification.check(run: run, digest: digest, key: key, store: store)
        return ModelVerification.Result(run: run, files: files, source: "the artifact store", problem: problem)
    }
}

/// `sluice verify-model`: re-hashes a version's model files as the registry serves them now
/// (MLflow's artifacts, or Sluice's artifact store) and checks them against the signature the
/// gate made (`gate.signing`) with a public key.
public enum ModelVerification {
    public struct Result: Sendable {
        public var run: Int64
        public var files: Int
        /// Where the files were read: `the artifact store` or `MLflow`.
        public var source: String
        /// nil: the signature holds for these files and this key.
        public var problem: String?
    }

    static func publicKey(_ pem: String) throws -> P256.Signing.PublicKey {
        do { return try P256.Signing.PublicKey(pemRepresentation: pem) } catch {
            throw LoadError(message: "the public key is not an ECDSA P-256 public key in PEM (\(error))", hint: "openssl ec -in signing.pem -pubout")
        }
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
        let artifacts = store.artifactStore
        let stored = try artifacts.files(of: digest, kind: artifact.kind, relative: artifact.path)
        let files = try stored.map { ModelSignature.File(path: $0.path, sha256: try artifacts.rehash($0)) }
        return (files.count, ModelSignature.problem(bundle: bundle, key: key, files: files))
    }
}
