import Crypto
import Foundation
import Testing
@testable import SluiceCore

/// The model-signing bundle checked against the files as they are: signed by the key, every
/// file as signed, none added or missing.
@Suite struct ModelSignatureTests {
    let files = [ModelSignature.File(path: "model.pkl", sha256: String(repeating: "ab", count: 32)),
                 ModelSignature.File(path: "tokenizer/vocab.txt", sha256: String(repeating: "cd", count: 32))]

    @Test func aBundleHoldsForItsKeyAndFilesOnly() throws {
        let key = P256.Signing.PrivateKey()
        let bundle = try ModelSignature.bundle(model: "model", files: files, key: key, keyID: "k1")
        #expect(ModelSignature.problem(bundle: bundle, key: key.publicKey, files: files) == nil)
        #expect(ModelSignature.problem(bundle: bundle, key: P256.Signing.PrivateKey().publicKey, files: files) == "the bundle is not signed by this key")
        var changed = files
        changed[0].sha256 = String(repeating: "ef", count: 32)
        #expect(ModelSignature.problem(bundle: bundle, key: key.publicKey, files: changed) == "model.pkl differs from what was signed")
        #expect(ModelSignature.problem(bundle: bundle, key: key.publicKey, files: files + [.init(path: "extra.bin", sha256: "00")])
                == "extra.bin was not signed")
        #expect(ModelSignature.problem(bundle: "{}", key: key.publicKey, files: files)?.hasPrefix("the signature bundle cannot be read") == true)
    }

    @Test func theStatementIsTheModelSigningPredicate() throws {
        let statement = try JSONSerialization.jsonObject(with: Data(ModelSignature.statement(model: "model", files: files))) as? [String: Any]
        #expect(statement?["predicateType"] as? String == "https://model_signing/signature/v1.0")
        let subject = (statement?["subject"] as? [[String: Any]])?.first
        let root = SHA256.hash(data: ModelSignature.hexBytes(files[0].sha256) + ModelSignature.hexBytes(files[1].sha256))
        #expect((subject?["digest"] as? [String: String])?["sha256"] == ModelSignature.hex(Array(root)))
        #expect(ModelSignature.pae(Array("{}".utf8)) == Array("DSSEv1 28 application/vnd.in-toto+json 2 {}".utf8))
    }
}
