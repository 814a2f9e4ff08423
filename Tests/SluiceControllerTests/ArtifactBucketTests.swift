import Foundation
import Testing
import SluiceCore
import SluiceGit
import SluiceStore
import SluiceTestSupport
import SluiceYAML
@testable import SluiceController

/// The artifact bucket as commands and the controller are given it, and a pipeline whose state
/// folder lost its artifacts and logs: the next run restores them from the bucket, and the
/// logs are read from it.
@Suite struct ArtifactBucketTests {
    @Test(.enabled(if: RequiredTools.run(whenPresent: S3Emulator.isInstalled), "moto_server is not installed (pip install 'moto[server]'): SKIPPED"))
    func aStateFolderThatLostItsArtifactsRestoresThemFromTheBucket() async throws {
        let s3 = try S3Emulator(bucket: "team-artifacts", checkingSignatures: true)
        let key = try #require(s3.credentials)
        let repo = try TestRepository()
        let spec = { (b: String) in """
            version: 1
            stages:
              train: { run: "head -c 300000 /dev/urandom > model.bin && sha256sum model.bin > model.sum", outputs: [model.bin, model.sum],
                       when: { paths: [data.csv] }, timeout: 60s }
              check: { run: "sha256sum -c model.sum && echo \(b)", needs: [train], timeout: 60s }
            """ }
        try repo.commit("first", files: ["sluice.yaml": spec("one"), "data.csv": "x\n1\n"])
        let state = TemporaryDirectory(prefix: "sluice-state")
        let options = PipelineRunner.Options(jobs: 2, environment: [
            "PATH": "/usr/local/bin:/usr/bin:/bin", "SLUICE_ARTIFACTS_URL": "s3://team-artifacts/iris", "SLUICE_S3_ENDPOINT_URL": s3.url,
            "AWS_ACCESS_KEY_ID": key.accessKeyID, "AWS_SECRET_ACCESS_KEY": key.secretAccessKey,
        ])
        let service = try RunService(stateDirectory: state.path, options: options)
        let git = try GitRepository(path: repo.path)

        func run() async throws -> [String: StageResultRecord] {
            guard case .run(let record, let work) = try service.prepare(repository: git, repositoryKey: repo.path, revision: "HEAD",
                                                                        since: nil, ref: "refs/heads/main", trigger: "test") else {
                throw CancellationError()
            }
            _ = try await service.runner.execute(record, commit: try git.commit(work.plan.commit), work: work, events: { _ in })
            return Dictionary(uniqueKeysWithValues: try service.store.stages(of: record.id!).map { ($0.stage, $0) })
        }
        let first = try await run()
        #expect(first["train"]?.status == .succeeded && first["check"]?.status == .succeeded)
        let trained = try service.store.artifacts(of: try #require(first["train"]?.runId)).filter { $0.stage == "train" }
        let logs = [first["train"]?.logDigest, first["check"]?.logDigest].compactMap { $0 }
        #expect(logs.count == 2, "each finished stage's log is archived")
        #expect(Set(try s3.objects().map(\.key)) == Set((trained.map(\.digest) + logs).map { "iris/sha256/\($0.dropFirst(7).prefix(2))/\($0.dropFirst(7))" }))

        // The node's artifacts and logs are gone (a new volume); the logs are read from the bucket.
        try FileManager.default.removeItem(atPath: state.path + "/cas")
        try FileManager.default.removeItem(atPath: state.path + "/logs")
        let check = try #require(first["check"])
        let archived = try #require(try service.store.stageLog(check))
        #expect(String(decoding: archived, as: UTF8.self).contains("model.bin: OK"))
        // The next commit changes only `check`.
        try repo.commit("second", files: ["sluice.yaml": spec("two")])
        let second = try await run()
        let trainLog = (second["train"]?.logPath).flatMap { try? String(contentsOfFile: $0, encoding: .utf8) } ?? ""
        #expect(second["train"]?.status == .cached, "train's result is reused: \(trainLog)")
        #expect(second["check"]?.status == .succeeded, "check read the model the bucket gave back and its checksum held")
        let log = (second["check"]?.logPath).flatMap { try? String(contentsOfFile: $0, encoding: .utf8) } ?? ""
        #expect(log.contains("model.bin: OK"))
    }

    @Test func theControllerConfigurationNamesTheBucketAndTheVariablesOfItsKey() throws {
        func decode(_ yaml: String) throws -> (ControllerConfig?, [String]) {
            let node = try YAMLParser.parseDocument(Array((yaml + "repositories: [{ name: a, url: /tmp/a }]\n").utf8), file: "c.yaml")
            let decoded = ControllerConfigDecoder.decode(node, file: "c.yaml")
            return (decoded.config, decoded.diagnostics.map { "\($0.location.line):\($0.location.column) \($0.message)" })
        }
        let (config, _) = try decode("""
            artifacts:
              s3: { bucket: ml-artifacts, prefix: sluice/prod, endpoint: "https://minio:9000", region: eu-west-1,
                    credentials-env: { access-key-id: MINIO_KEY, secret-access-key: MINIO_SECRET } }

            """)
        let bucket = try #require(config?.artifacts)
        let settings = try ArtifactStorageSettings.resolve(bucket, environment: ["MINIO_KEY": "k", "MINIO_SECRET": "s"])
        #expect(settings.bucket == "ml-artifacts" && settings.prefix == "sluice/prod/" && settings.endpoint == "https://minio:9000")
        #expect(settings.region == "eu-west-1" && settings.accessKeyID == "k" && settings.secretAccessKey == "s")
        // A key the environment lacks is named with where the configuration asked for it.
        #expect {
            try ArtifactStorageSettings.resolve(bucket, environment: ["AWS_ACCESS_KEY_ID": "k", "AWS_SECRET_ACCESS_KEY": "s"])
        } throws: { "\($0)".contains("artifacts.s3 at c.yaml:2:7 is set but MINIO_KEY or MINIO_SECRET is not") }

        #expect(try decode("artifacts: { s3: { bucket: Bad_Name } }\n").1 == ["1:18 artifacts.s3 at c.yaml:1:18 names the bucket 'Bad_Name', which is not a valid S3 bucket name"])
        #expect(try decode("artifacts: { s3: { prefix: x } }\n").1 == ["1:18 'artifacts.s3' needs 'bucket'"])
        #expect(try decode("artifacts: { gcs: { bucket: b } }\n").1.first?.hasPrefix("1:14 ") == true)
    }
}
