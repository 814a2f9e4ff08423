import Crypto
import FoundationEssentials
public import SluiceCore
import SluiceRegistry

/// Signs a registered candidate's model files with the key `gate.signing` names (see
/// `ModelSignature` for the format). The key is read where Sluice runs, never from the repository.
enum ModelSigning {
    /// The bundle (JSON) for `files`; throws when the key cannot be read or there is nothing to sign.
    static func bundle(for files: ModelFiles?, signing: GateSpec.Signing, environment: [String: String]) throws -> String {
        guard let files, !files.files.isEmpty else {
            throw LoadError(message: "gate.signing: the candidate has no model files to sign", hint: "declare the model's output (gate.artifact or the stage's outputs)")
        }
        let key = try privateKey(signing, environment: environment)
        let signed = files.files.map { ModelSignature.File(path: $0.path, sha256: String($0.digest.dropFirst("sha256:".count))) }
        return try ModelSignature.bundle(model: files.name, files: signed, key: key, keyID: signing.keyID)
    }

    static func privateKey(_ signing: GateSpec.Signing, environment: [String: String]) throws -> P256.Signing.PrivateKey {
        let pem: String
        if let name = signing.keyEnv {
            guard let value = environment[name], !value.isEmpty else {
                throw LoadError(message: "gate.signing.key-env: \(name) is not set in the environment", hint: "export it with the PEM of an ECDSA P-256 private key")
            }
            pem = value
        } else if let path = signing.keyFile {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw LoadError(message: "gate.signing.key: \(path) cannot be read where Sluice runs", hint: "the key lives on the controller's machine (a mounted Secret), not in the repository")
            }
            pem = String(decoding: data, as: UTF8.self)
        } else {
            throw LoadError(message: "gate.signing names no key")
        }
        do { return try P256.Signing.PrivateKey(pemRepresentation: pem) } catch {
            throw LoadError(message: "gate.signing: the key is not an ECDSA P-256 private key in PEM (\(error))",
                            hint: "openssl ecparam -name prime256v1 -genkey -noout -out signing.pem")
        }
    }
}
