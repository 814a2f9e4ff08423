import Crypto
import Foundation
import Testing
import SluiceTestSupport

/// `gate.signing`: every registered candidate's model files are signed in the OpenSSF
/// model-signing format, and the real `model_signing verify key` (PyPI `model-signing`) accepts
/// the bundle for the model's files, and rejects it once one byte of them changed.
@Suite struct ModelSigningTests {
    let sluice = RepositoryLayout.sluiceBinary

    /// A folder with an ECDSA P-256 key made by openssl: `signing.pem` and `public.pem`.
    static func signingKey() throws -> TemporaryDirectory {
        let keys = TemporaryDirectory(prefix: "sluice-keys")
        #expect(try ProcessRunner.run("openssl", ["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", keys.path + "/signing.pem"]).status == 0)
        #expect(try ProcessRunner.run("openssl", ["ec", "-in", keys.path + "/signing.pem", "-pubout", "-out", keys.path + "/public.pem"]).status == 0)
        return keys
    }

    @Test(.enabled(if: RequiredTools.run(whenPresent: ProcessRunner.has("model_signing")), "model_signing is not installed (pip install model-signing): SKIPPED"))
    func theModelSigningToolAcceptsTheBundleAndRejectsAChangedFile() throws {
        let keys = try Self.signingKey()
        let repo = try TestRepository()
        let weights = (0..<4096).map { String(UnicodeScalar(UInt8(32 + $0 % 90))) }.joined()
        try repo.commit("model", files: [
            "sluice.yaml": """
                version: 1
                datasets:
                  weights: { path: weights/weights.bin }
                  vocabulary: { path: weights }
                stages:
                  train:
                    run: [sh, -c, "mkdir -p model/tokenizer && cp weights/weights.bin weights/config.json model/ && cp weights/vocab.txt model/tokenizer/"]
                    outputs: [model/]
                  evaluate:
                    run: [sh, -c, "echo '{\\"accuracy\\": 0.9}' > metrics.json"]
                    needs: [train]
                    metrics: metrics.json
                gate:
                  policy: policy.yaml
                  model: signed
                  signing: { key: \(keys.path)/signing.pem, key-id: test-2026 }
                """,
            "policy.yaml": "rules:\n  - { metric: accuracy, direction: higher, min: 0.5 }\n",
            "weights/weights.bin": weights, "weights/config.json": "{\"layers\": 2}\n", "weights/vocab.txt": "a\nb\nc\n",
        ])
        let state = TemporaryDirectory(prefix: "sluice-state")
        let run = try ProcessRunner.run(sluice, ["run", "--repo", repo.path, "--state", state.path])
        #expect(run.status == 0, "\(run.stdout)\n\(run.stderr)")

        let bundle = keys.path + "/model.sig"
        let read = try ProcessRunner.run("python3", ["-c", """
            import sqlite3, sys
            (content,) = sqlite3.connect(sys.argv[1]).execute("select content from reports where kind = 'model-signature'").fetchone()
            open(sys.argv[2], "w").write(content)
            """, state.path + "/sluice.sqlite", bundle])
        #expect(read.status == 0, "\(read.stderr)")

        // The provenance and gate statements verify with securesystemslib's DSSE and name the commit and the verdict.
        let commit = try repo.git(["rev-parse", "HEAD"])
        let attested = try ProcessRunner.run("python3", ["-c", """
            import json, sqlite3, sys
            from securesystemslib.dsse import Envelope
            from securesystemslib.signer import SSlibKey
            db, pem = sys.argv[1], open(sys.argv[2]).read()
            key = SSlibKey("test-2026", "ecdsa", "ecdsa-sha2-nistp256", {"public": pem})
            out = {}
            for kind in ("provenance", "gate-attestation"):
                (content,) = sqlite3.connect(db).execute("select content from reports where kind = ?", (kind,)).fetchone()
                envelope = Envelope.from_dict(json.loads(content))
                envelope.verify([key], 1)
                out[kind] = json.loads(envelope.payload)
            print(json.dumps(out))
            """, state.path + "/sluice.sqlite", keys.path + "/public.pem"])
        #expect(attested.status == 0, "\(attested.stderr)")
        let statements = try JSONSerialization.jsonObject(with: Data(attested.stdout.utf8)) as? [String: Any] ?? [:]
        let provenance = statements["provenance"] as? [String: Any] ?? [:]
        #expect(provenance["predicateType"] as? String == "https://slsa.dev/provenance/v1")
        let subjects = (provenance["subject"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
        #expect(subjects == ["config.json", "tokenizer/vocab.txt", "weights.bin"])
        let build = (provenance["predicate"] as? [String: Any])?["buildDefinition"] as? [String: Any] ?? [:]
        #expect((build["externalParameters"] as? [String: Any])?["commit"] as? String == commit)
        // The inputs: the source commit, then each dataset by its git object (a file's blob, a folder's tree).
        let inputs = (build["resolvedDependencies"] as? [[String: Any]] ?? []).map { ($0["name"] as? String ?? "", $0["digest"] as? [String: String] ?? [:]) }
        #expect(inputs.count == 3 && inputs.first?.1 == ["gitCommit": commit], "\(inputs)")
        #expect(inputs.dropFirst().map(\.0) == ["vocabulary", "weights"])
        #expect(inputs.dropFirst().map(\.1) == [["gitTree": try repo.git(["rev-parse", "HEAD:weights"])],
                                                 ["gitBlob": try repo.git(["rev-parse", "HEAD:weights/weights.bin"])]], "\(inputs)")
        let gate = (statements["gate-attestation"] as? [String: Any])?["predicate"] as? [String: Any] ?? [:]
        #expect(gate["verdict"] as? String == "promote" && (gate["rules"] as? [Any])?.count == 1, "\(gate)")

        // The bundle and both statements are recorded in the repository too, for verifiers without Sluice.
        let recorded = try repo.git(["ls-tree", "-r", "--name-only", "refs/sluice/attestations"])
        #expect(recorded.split(separator: "\n") == ["signed/1/gate.intoto.json", "signed/1/model.sig", "signed/1/provenance.intoto.json"], "\(recorded)")
        #expect(try repo.git(["show", "refs/sluice/attestations:signed/1/model.sig"]) == String(contentsOfFile: bundle, encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines))

        // The model as a consumer holds it: the same files, in a folder of its own.
        let model = TemporaryDirectory(prefix: "sluice-model")
        model.write("model/weights.bin", weights)
        model.write("model/config.json", "{\"layers\": 2}\n")
        model.write("model/tokenizer/vocab.txt", "a\nb\nc\n")
        let verify = ["verify", "key", "--signature", bundle, "--public_key", keys.path + "/public.pem", model.path + "/model"]
        let accepted = try ProcessRunner.run("model_signing", verify)
        #expect(accepted.status == 0, "\(accepted.stdout)\n\(accepted.stderr)")
        #expect(!accepted.stdout.contains("WARNING"), "the key hint matches the public key: \(accepted.stdout)")

        model.write("model/weights.bin", "X" + String(weights.dropFirst()))
        let rejected = try ProcessRunner.run("model_signing", verify)
        #expect(rejected.status != 0 && (rejected.stdout + rejected.stderr).contains("weights.bin"), "\(rejected.stdout)\n\(rejected.stderr)")

        // sluice verify-model hashes the stored files again: a swapped byte in the artifact store is found.
        let check = ["verify-model", "signed", "1", "--public-key", keys.path + "/public.pem", "--repo", repo.path, "--state", state.path]
        let ok = try ProcessRunner.run(sluice, check)
        #expect(ok.status == 0 && ok.stdout.contains("signed version 1 (run 1): verified, 3 files as signed (read from the artifact store)"), "\(ok.stdout)\(ok.stderr)")
        let hex = SHA256.hash(data: Data(weights.utf8)).map { String(format: "%02x", $0) }.joined()
        let blob = state.path + "/cas/sha256/\(hex.prefix(2))/\(hex)"
        chmod(blob, 0o644)
        try Data(("X" + String(weights.dropFirst())).utf8).write(to: URL(fileURLWithPath: blob))
        let swapped = try ProcessRunner.run(sluice, check)
        #expect(swapped.status == 1 && swapped.stdout.contains("NOT verified: weights.bin differs from what was signed"), "\(swapped.stdout)\(swapped.stderr)")
    }

    @Test func anEnvironmentThatRequiresASignatureRefusesAnAlteredModel() throws {
        let keys = try Self.signingKey()
        let repo = try TestRepository()
        try repo.commit("model", files: [
            "sluice.yaml": """
                version: 1
                stages:
                  train:
                    run: [sh, -c, "mkdir -p model && echo weights-1 > model/weights.bin"]
                    outputs: [model/]
                  evaluate:
                    run: [sh, -c, "echo '{\\"accuracy\\": 0.9}' > metrics.json"]
                    needs: [train]
                    metrics: metrics.json
                gate:
                  policy: policy.yaml
                  model: signed
                  signing: { key-env: SIGNING_KEY }
                environments:
                  - { name: staging, manifests: manifests/, namespace: ml-staging }
                  - { name: production, manifests: manifests/, namespace: ml, promote: manual, require: { signature: true } }
                """,
            "policy.yaml": "rules:\n  - { metric: accuracy, direction: higher, min: 0.5 }\n",
            "manifests/config.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: { name: model }\ndata: { version: \"{{model.version}}\", signature: \"{{model.signature}}\" }\n",
        ])
        let env = ["SIGNING_KEY": try String(contentsOfFile: keys.path + "/signing.pem", encoding: .utf8)]
        let state = TemporaryDirectory(prefix: "sluice-state")
        let run = try ProcessRunner.run(sluice, ["run", "--repo", repo.path, "--state", state.path], environment: env)
        #expect(run.status == 0 && run.stdout.contains("waiting for approval to enter production"), "\(run.stdout)\n\(run.stderr)")

        // Staging's manifests carry the digest of the bundle, for a server to check its files against.
        let digest = try ProcessRunner.run("python3", ["-c", """
            import hashlib, sqlite3, sys
            (content,) = sqlite3.connect(sys.argv[1]).execute("select content from reports where kind = 'model-signature'").fetchone()
            print("sha256:" + hashlib.sha256(content.encode()).hexdigest())
            """, state.path + "/sluice.sqlite"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let staging = try repo.git(["for-each-ref", "--format=%(refname)", "refs/heads/sluice/env/"]).split(separator: "\n").first { $0.hasSuffix("staging") }
        let config = try repo.git(["grep", "-h", "signature:", String(try #require(staging))])
        #expect(digest.count == 71 && config.contains(digest), "\(config)")

        // Someone swaps the stored model file while the version waits for approval.
        let hex = SHA256.hash(data: Data("weights-1\n".utf8)).map { String(format: "%02x", $0) }.joined()
        let blob = state.path + "/cas/sha256/\(hex.prefix(2))/\(hex)"
        chmod(blob, 0o644)
        try Data("weights-2\n".utf8).write(to: URL(fileURLWithPath: blob))
        let approve = try ProcessRunner.run(sluice, ["approve", "signed", "1", "--to", "production", "--reason", "looks fine", "--repo", repo.path,
                                                     "--state", state.path], environment: env)
        #expect(approve.stdout.contains("failed in production") && approve.stdout.contains("its signature does not hold: weights.bin differs from what was signed"),
                "\(approve.stdout)\n\(approve.stderr)")
        let production = try repo.git(["branch", "--list", "sluice/env/ml/production"])
        #expect(production.isEmpty, "nothing was deployed to production")

        // The approval itself is a signed statement about the signed files, recorded beside the version's others.
        let approval = try repo.git(["show", "refs/sluice/attestations:signed/1/approval-production.intoto.json"])
        let checked = try ProcessRunner.run("python3", ["-c", """
            import json, sys
            from securesystemslib.dsse import Envelope
            from securesystemslib.signer import SSlibKey
            key = SSlibKey("", "ecdsa", "ecdsa-sha2-nistp256", {"public": open(sys.argv[1]).read()})
            envelope = Envelope.from_dict(json.loads(sys.argv[2]))
            envelope.verify([key], 1)
            statement = json.loads(envelope.payload)
            p = statement["predicate"]
            print(statement["predicateType"], p["environment"], p["reason"], [s["name"] for s in statement["subject"]])
            """, keys.path + "/public.pem", approval])
        #expect(checked.status == 0 && checked.stdout.contains("https://sluice.dev/approval/v1 production looks fine ['weights.bin']"),
                "\(checked.stdout)\(checked.stderr)")
    }

    @Test func theControllerServesAVersionsSignatureAndAttestations() throws {
        let keys = try Self.signingKey()
        let repo = try TestRepository()
        try repo.commit("model", files: [
            "sluice.yaml": """
                version: 1
                stages:
                  train:
                    run: [sh, -c, "mkdir -p model && echo weights > model/weights.bin && echo '{\\"accuracy\\": 0.9}' > metrics.json"]
                    outputs: [model/]
                    metrics: metrics.json
                gate: { policy: policy.yaml, model: served, signing: { key: \(keys.path)/signing.pem } }
                """,
            "policy.yaml": "rules:\n  - { metric: accuracy, direction: higher, min: 0.5 }\n",
        ])
        let dir = TemporaryDirectory()
        let config = dir.write("controller.yaml", "listen: 127.0.0.1:0\ninterval: 1s\nrepositories:\n  - { name: served, url: \(repo.path) }\n")
        let watch = try BackgroundProcess(sluice, ["watch", "--config", config, "--state", dir.path + "/state"], readyPrefix: "sluice: listening on 127.0.0.1:")
        let base = "http://127.0.0.1:\(watch.readyLine.split(separator: ",")[0])"
        func get(_ path: String) throws -> (Int, [String: Any]) {
            let r = try ProcessRunner.run("curl", ["-s", "-w", "\n%{http_code}", base + path]).stdout
            let split = r.lastIndex(of: "\n") ?? r.endIndex
            let body = (try? JSONSerialization.jsonObject(with: Data(r[..<split].utf8))) as? [String: Any] ?? [:]
            return (Int(r[r.index(after: split)...]) ?? 0, body)
        }
        try waitUntil("version 1 signed and served") { try get("/api/models/served/versions/1/attestations").0 == 200 }
        let (_, body) = try get("/api/models/served/versions/1/attestations")
        #expect((body["signature"] as? [String: Any])?["mediaType"] as? String == "application/vnd.dev.sigstore.bundle.v0.3+json")
        #expect((body["attestations"] as? [[String: Any]])?.map { $0["payloadType"] as? String } == ["application/vnd.in-toto+json", "application/vnd.in-toto+json"])
        #expect(try get("/api/models/served/versions/9/attestations").0 == 404)
        let page = try ProcessRunner.run("curl", ["-s", base + "/models/served"]).stdout
        #expect(page.contains("<a href=\"/api/models/served/versions/1/attestations\" title=\"signature and attestations\">signed</a>"), "the model page lists it as signed")
        withExtendedLifetime(watch) {}
    }
}
