import Foundation
import Testing
import SluiceCore
import SluiceObjectStore
import SluiceStore
import SluiceTestSupport

/// The artifact store with an S3 bucket behind it, against moto checking every request's
/// Signature V4 (as S3 does): what goes up, what comes back to an empty state folder, what a
/// cut connection and a changed object do.
@Suite(.enabled(if: RequiredTools.run(whenPresent: S3Emulator.isInstalled), "moto_server is not installed (pip install 'moto[server]'): SKIPPED"))
struct S3ArtifactStoreTests {
    func settings(_ s3: S3Emulator, endpoint: String? = nil, prefix: String = "team/iris/", partMB: Int64 = 16) throws -> ArtifactStorageSettings {
        let key = try #require(s3.credentials)
        var settings = ArtifactStorageSettings(bucket: s3.bucket, prefix: prefix, endpoint: endpoint ?? s3.url, region: "us-east-1",
                                               accessKeyID: key.accessKeyID, secretAccessKey: key.secretAccessKey)
        settings.partSize = partMB << 20
        return settings
    }

    func key(_ digest: String, prefix: String = "team/iris/") -> String {
        let hex = digest.dropFirst("sha256:".count)
        return "\(prefix)sha256/\(hex.prefix(2))/\(hex)"
    }

    @Test func outputsGoToTheBucketAndComeBackToAnEmptyStateFolder() throws {
        let s3 = try S3Emulator(bucket: "sluice-artifacts", checkingSignatures: true)
        let remote = S3BlobStore(settings: try settings(s3))
        let first = TemporaryDirectory(), second = TemporaryDirectory(), ws = TemporaryDirectory(), restored = TemporaryDirectory()
        ws.write("model/weights.bin", String(repeating: "w", count: 1000))
        ws.write("model/sub/config.json", "{}")
        ws.write("metrics.json", "{\"accuracy\": 0.9}")
        let store = ArtifactStore(stateDirectory: first.path, remote: remote)
        let folder = try store.store(output: "model", workspace: ws.path)
        let file = try store.store(output: "metrics.json", workspace: ws.path)

        // Every blob (the folder's two files, its manifest, the single file) is in the bucket under its digest.
        let objects = try s3.objects()
        #expect(Set(objects.map(\.key)).isSuperset(of: [key(folder.digest), key(file.digest)]))
        #expect(objects.count == 4)
        #expect(objects.allSatisfy { $0.key.hasPrefix("team/iris/sha256/") })

        // A new replica's empty state folder fetches them, checked against their digests.
        let fresh = ArtifactStore(stateDirectory: second.path, remote: remote)
        try fresh.restore(folder.digest, kind: .directory, to: "model", workspace: restored.path)
        try fresh.restore(file.digest, kind: .file, to: "metrics.json", workspace: restored.path)
        #expect(try String(contentsOfFile: restored.path + "/model/weights.bin", encoding: .utf8) == String(repeating: "w", count: 1000))
        #expect(try String(contentsOfFile: restored.path + "/model/sub/config.json", encoding: .utf8) == "{}")
        #expect(try String(contentsOfFile: restored.path + "/metrics.json", encoding: .utf8) == "{\"accuracy\": 0.9}")
        // Now cached locally: the files of an output are local paths.
        let files = try fresh.files(of: folder.digest, kind: .directory, relative: "model")
        #expect(files.map(\.path) == ["sub/config.json", "weights.bin"])
        #expect(files.allSatisfy { FileManager.default.fileExists(atPath: $0.blob) && $0.blob.hasPrefix(second.path) })
    }

    @Test func aLargeFileGoesUpInPartsAndComesBackWhole() throws {
        let s3 = try S3Emulator(bucket: "sluice-artifacts", checkingSignatures: true)
        let remote = S3BlobStore(settings: try settings(s3, partMB: 5))
        let state = TemporaryDirectory(), other = TemporaryDirectory(), ws = TemporaryDirectory(), restored = TemporaryDirectory()
        var bytes = [UInt8](repeating: 0, count: 12 << 20)
        var x: UInt32 = 2463534242
        for i in bytes.indices { x ^= x << 13; x ^= x >> 17; x ^= x << 5; bytes[i] = UInt8(truncatingIfNeeded: x) }
        try Data(bytes).write(to: URL(fileURLWithPath: ws.path + "/model.bin"))
        let stored = try ArtifactStore(stateDirectory: state.path, remote: remote).store(output: "model.bin", workspace: ws.path)

        let object = try #require(try s3.objects().first { $0.key == key(stored.digest) })
        #expect(object.size == 12 << 20)
        #expect(object.etag.hasSuffix("-3"), "three parts of 5, 5 and 2 MiB")
        try ArtifactStore(stateDirectory: other.path, remote: remote).restore(stored.digest, kind: .file, to: "model.bin", workspace: restored.path)
        #expect(try Data(contentsOf: URL(fileURLWithPath: restored.path + "/model.bin")) == Data(bytes))
    }

    @Test func aCutUploadLeavesNothingUnderTheDigestAndTheStoreSaysWhere() throws {
        let s3 = try S3Emulator(bucket: "sluice-artifacts", checkingSignatures: true)
        let proxy = try CuttingProxy(upstreamPort: s3.port, cutting: "/sha256/")
        let state = TemporaryDirectory(), ws = TemporaryDirectory()
        ws.write("small.txt", String(repeating: "s", count: 4096))
        var big = [UInt8](repeating: 7, count: 11 << 20)
        big[big.count - 1] = 8
        try Data(big).write(to: URL(fileURLWithPath: ws.path + "/big.bin"))
        let store = ArtifactStore(stateDirectory: state.path, remote: S3BlobStore(settings: try settings(s3, endpoint: proxy.url, partMB: 5)))

        proxy.cutUploads(true)
        for output in ["small.txt", "big.bin"] {
            do {
                _ = try store.store(output: output, workspace: ws.path)
                Issue.record("storing \(output) through a cut connection succeeded")
            } catch {
                #expect(error.description.contains("output '\(output)' is stored in this state folder but could not be copied to s3://sluice-artifacts/team/iris/"))
            }
        }
        #expect(proxy.cuts.count >= 2)
        #expect(try s3.objects().isEmpty, "nothing under a digest: a single PUT cut is not stored, a multipart upload is never completed")
        #expect(try s3.unfinishedUploads() == 0, "the cut multipart upload was aborted")

        // The connection back: storing again uploads what the bucket lacks, though the folder has it.
        proxy.cutUploads(false)
        let small = try store.store(output: "small.txt", workspace: ws.path)
        let large = try store.store(output: "big.bin", workspace: ws.path)
        #expect(Set(try s3.objects().map(\.key)) == [key(small.digest), key(large.digest)])
    }

    @Test func aChangedObjectIsRefusedOnRead() throws {
        let s3 = try S3Emulator(bucket: "sluice-artifacts", checkingSignatures: true)
        let remote = S3BlobStore(settings: try settings(s3))
        let state = TemporaryDirectory(), other = TemporaryDirectory(), ws = TemporaryDirectory(), restored = TemporaryDirectory()
        ws.write("model.pkl", "the trained weights")
        let stored = try ArtifactStore(stateDirectory: state.path, remote: remote).store(output: "model.pkl", workspace: ws.path)
        try s3.put(key(stored.digest), bytes: Array("other weights".utf8))

        let fresh = ArtifactStore(stateDirectory: other.path, remote: remote)
        #expect {
            try fresh.restore(stored.digest, kind: .file, to: "model.pkl", workspace: restored.path)
        } throws: { error in
            let text = "\(error)"
            return text.contains("artifact \(stored.digest) of output 'model.pkl' is not in this state folder and could not be fetched from s3://sluice-artifacts/team/iris/")
                && text.contains("holds other bytes (13 bytes hashing to sha256:")
        }
        #expect(!FileManager.default.fileExists(atPath: restored.path + "/model.pkl"))
        #expect((try? FileManager.default.contentsOfDirectory(atPath: other.path + "/cas/sha256"))?.isEmpty ?? true, "nothing kept under any digest")
    }

    @Test func wrongCredentialsAndAMissingBucketSayWhatToCheck() throws {
        let s3 = try S3Emulator(bucket: "sluice-artifacts", checkingSignatures: true)
        let state = TemporaryDirectory(), ws = TemporaryDirectory()
        ws.write("a.txt", "a")
        var wrong = try settings(s3)
        wrong.secretAccessKey = "not-the-secret"
        #expect {
            _ = try ArtifactStore(stateDirectory: state.path, remote: S3BlobStore(settings: wrong)).store(output: "a.txt", workspace: ws.path)
        } throws: { error in
            // A HEAD's refusal has no body: its status says it.
            "\(error)".contains("HEAD s3://sluice-artifacts/team/iris/sha256/") && "\(error)".contains("HTTP 403")
                && "\(error)".contains("check AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY")
        }
        var missing = try settings(s3)
        missing.bucket = "no-such-bucket"
        #expect {
            _ = try ArtifactStore(stateDirectory: state.path, remote: S3BlobStore(settings: missing)).store(output: "a.txt", workspace: ws.path)
        } throws: { error in
            "\(error)".contains("PUT s3://no-such-bucket/team/iris/sha256/") && "\(error)".contains("HTTP 404 NoSuchBucket")
                && "\(error)".contains("create the bucket, or point SLUICE_ARTIFACTS_URL at one that exists")
        }
    }
}
