import Foundation
import Testing
import SluiceTestSupport

/// examples/iris with `registry: mlflow` against a real `mlflow server` (SQLite store, local
/// artifact folder behind the artifact proxy): what Sluice promotes, MLflow clients load.
@Suite(.serialized) struct MLflowModelsTests {
    let sluice = RepositoryLayout.sluiceBinary

    /// The Prometheus the example's staging analysis reads (its smoke test serves each version).
    let staging: IrisStagingPrometheus

    init() throws { staging = try IrisStagingPrometheus() }

    /// - Parameter signed: sign each candidate with the key in `$SIGNING_KEY` (`gate.signing`).
    func irisRepository(signed: Bool = false) throws -> TestRepository {
        let repo = try TestRepository()
        try ProcessRunner.run("cp", ["-R", RepositoryLayout.root() + "/examples/iris/.", repo.path])
        let spec = try String(contentsOfFile: repo.path + "/sluice.yaml", encoding: .utf8)
        let gate = "  model: iris\n  registry: mlflow\n" + (signed ? "  signing: { key-env: SIGNING_KEY, key-id: iris-test }\n" : "")
        repo.write("sluice.yaml", staging.adapt(spec.replacingOccurrences(of: "  model: iris\n", with: gate)))
        try repo.commit("iris: first model")
        return repo
    }

    func run(_ repo: TestRepository, _ state: TemporaryDirectory, _ env: [String: String]) throws -> ProcessResult {
        try ProcessRunner.run(sluice, ["run", "--repo", repo.path, "--state", state.path], environment: env.merging(staging.environment) { a, _ in a })
    }

    /// Loads `uri` with `mlflow.pyfunc.load_model` and the model Sluice stored for `run`
    /// (pickle from its artifact store), predicts the repository's flowers with both, and
    /// prints `same`/`different` and the SHA-256 of the model.pkl MLflow served.
    func compare(uri: String, run: Int, state: TemporaryDirectory, repo: TestRepository, tracking: String) throws -> String {
        let script = """
            import hashlib, os, pickle, sqlite3, sys
            import numpy as np
            import mlflow.pyfunc
            from mlflow.artifacts import download_artifacts
            state, run, uri, data = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
            def blob(digest):
                hexdigest = digest.split(":", 1)[1]
                return f"{state}/cas/sha256/{hexdigest[:2]}/{hexdigest}"
            db = sqlite3.connect(state + "/sluice.sqlite")
            (manifest,) = db.execute("select digest from artifacts where runId = ? and stage = 'train'", (run,)).fetchone()
            files = {line.split(" ", 2)[2]: line.split(" ", 2)[0] for line in open(blob(manifest)).read().splitlines()}
            with open(blob(files["model.pkl"]), "rb") as handle:
                trained = pickle.load(handle)
            sys.path.insert(0, os.path.dirname(data) + "/../src")
            from features import load
            xs, _ = load(data)
            loaded = mlflow.pyfunc.load_model(uri)
            same = list(loaded.predict(np.array(xs))) == list(trained.predict(xs))
            served = download_artifacts(uri + "/model.pkl")
            print("same" if same else "different", "sha256:" + hashlib.sha256(open(served, "rb").read()).hexdigest(), files["model.pkl"])
            """
        let r = try ProcessRunner.run("python3", ["-c", script, state.path, String(run), uri, repo.path + "/data/iris.csv"],
                                      environment: ["MLFLOW_TRACKING_URI": tracking])
        #expect(r.status == 0, "\(r.stderr)")
        return r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test(.enabled(if: RequiredTools.run(whenPresent: MLflowServer.isInstalled && ProcessRunner.has("model_signing")),
                   "mlflow or model_signing is not installed (pip install mlflow model-signing): SKIPPED"))
    func promotedVersionsLoadWithMLflowClientsAndTheRunsHoldTheTraining() throws {
        let server = try MLflowServer()
        let repo = try irisRepository(signed: true)
        let state = TemporaryDirectory(prefix: "sluice-state")
        let keys = try ModelSigningTests.signingKey()
        let env = ["MLFLOW_TRACKING_URI": server.url, "MLFLOW_TRACKING_TOKEN": "tok-never-printed-4711",
                   "SLUICE_REPORT_URL": "https://sluice.example.com/runs/{run}",
                   "SIGNING_KEY": try String(contentsOfFile: keys.path + "/signing.pem", encoding: .utf8)]

        let first = try run(repo, state, env)
        #expect(first.status == 0, "\(first.stdout)\n\(first.stderr)")
        // commit 2: a mislabelled batch, rejected; commit 3: fixed and grown, promoted.
        try ProcessRunner.run("python3", [RepositoryLayout.root() + "/examples/demo_data.py", "mislabel", repo.path + "/data/iris.csv"])
        try repo.commit("data: batch 2")
        let second = try run(repo, state, env)
        #expect(second.status == 1, "\(second.stdout)\n\(second.stderr)")
        try ProcessRunner.run("python3", [RepositoryLayout.root() + "/examples/demo_data.py", "fix", repo.path + "/data/iris.csv",
                                          RepositoryLayout.root() + "/examples/iris/data/iris.csv"])
        try repo.commit("data: relabel, 30 more flowers")
        let third = try run(repo, state, env)
        #expect(third.status == 0, "\(third.stdout)\n\(third.stderr)")

        let champion = try server.get("registered-models/alias?name=iris&alias=champion")["model_version"] as? [String: Any] ?? [:]
        #expect(champion["version"] as? String == "3")
        let loaded3 = try compare(uri: "models:/iris@champion", run: 3, state: state, repo: repo, tracking: server.url).split(separator: " ")
        #expect(loaded3.first == "same", "the champion predicts what Sluice's run 3 trained")
        #expect(loaded3.count == 3 && loaded3[1] == loaded3[2], "MLflow serves the exact model.pkl Sluice stored")

        // Each candidate is a run: metrics (slices too), resolved params, lineage tags, its files.
        for version in ["1", "2", "3"] {
            let mv = try server.get("model-versions/get?name=iris&version=\(version)")["model_version"] as? [String: Any] ?? [:]
            let runID = try #require(mv["run_id"] as? String)
            #expect((mv["source"] as? String)?.hasPrefix("mlflow-artifacts:/") == true)
            #expect((mv["source"] as? String)?.hasSuffix("/artifacts/model") == true)
            let tracked = try server.get("runs/get?run_id=\(runID)")["run"] as? [String: Any] ?? [:]
            let data = tracked["data"] as? [String: Any] ?? [:]
            let info = tracked["info"] as? [String: Any] ?? [:]
            #expect(info["status"] as? String == "FINISHED")
            let metrics = Set(((data["metrics"] as? [[String: Any]]) ?? []).compactMap { $0["key"] as? String })
            #expect(metrics.isSuperset(of: ["accuracy", "f1_macro", "slices/class_setosa/f1_macro"]), "\(metrics)")
            let params = Dictionary(((data["params"] as? [[String: Any]]) ?? []).map { ($0["key"] as! String, $0["value"] as! String) }, uniquingKeysWith: { a, _ in a })
            #expect(params["train.C"] == "1.0" && params["train.max_iter"] != nil, "\(params)")
            let tags = MLflowRegistryTests.tags(tracked["data"] as? [String: Any] ?? [:])
            #expect(tags["sluice.run"] == version)
            #expect(tags["mlflow.source.git.commit"] == tags["sluice.commit"])
            #expect(tags["sluice.run_url"] == "https://sluice.example.com/runs/\(version)")
            #expect(tags["sluice.dataset.iris"] != nil)
            #expect(tags["sluice.verdict"] == (version == "2" ? "reject" : "promote"))
            #expect(MLflowRegistryTests.tags(mv)["sluice.verdict"] == tags["sluice.verdict"])
            let files = try server.get("artifacts/list?run_id=\(runID)&path=model")["files"] as? [[String: Any]] ?? []
            #expect(Set(files.compactMap { $0["path"] as? String }).isSuperset(of: ["model/MLmodel", "model/model.pkl"]), "\(files)")
        }

        // The bundle lies beside the model in MLflow: the real model_signing accepts the iris model
        // as MLflow serves it, and rejects it once one byte of model/ changed.
        let download = try ProcessRunner.run("python3", ["-c", """
            import sys
            from mlflow.artifacts import download_artifacts
            from mlflow import MlflowClient
            mv = MlflowClient().get_model_version("iris", "3")
            download_artifacts(run_id=mv.run_id, artifact_path="model", dst_path=sys.argv[1])
            download_artifacts(run_id=mv.run_id, artifact_path="model.sig", dst_path=sys.argv[1])
            print(mv.tags.get("sluice.signature"))
            """, keys.path], environment: ["MLFLOW_TRACKING_URI": server.url])
        #expect(download.status == 0 && download.stdout.contains("model.sig"), "\(download.stdout)\(download.stderr)")
        let verify = ["verify", "key", "--signature", keys.path + "/model.sig", "--public_key", keys.path + "/public.pem", keys.path + "/model"]
        let accepted = try ProcessRunner.run("model_signing", verify)
        #expect(accepted.status == 0, "\(accepted.stdout)\n\(accepted.stderr)")
        var pickled = try Data(contentsOf: URL(fileURLWithPath: keys.path + "/model/model.pkl"))
        pickled[pickled.count - 2] ^= 1
        try pickled.write(to: URL(fileURLWithPath: keys.path + "/model/model.pkl"))
        let rejected = try ProcessRunner.run("model_signing", verify)
        #expect(rejected.status != 0 && (rejected.stdout + rejected.stderr).contains("model.pkl"), "\(rejected.stdout)\n\(rejected.stderr)")

        // sluice verify-model reads what MLflow serves: it holds, until a file in MLflow's artifact store is swapped.
        let check = ["verify-model", "iris", "3", "--public-key", keys.path + "/public.pem", "--repo", repo.path, "--state", state.path]
        let held = try ProcessRunner.run(sluice, check, environment: env)
        #expect(held.status == 0 && held.stdout.contains("iris version 3 (run 3): verified") && held.stdout.contains("(read from mlflow)"),
                "\(held.stdout)\(held.stderr)")
        let championRun = try #require(champion["run_id"] as? String)
        let stored = try #require(FileManager.default.enumerator(atPath: server.directory.path + "/artifacts")?.compactMap { $0 as? String }
            .first { $0.contains(championRun) && $0.hasSuffix("model/model.pkl") })
        try pickled.write(to: URL(fileURLWithPath: server.directory.path + "/artifacts/" + stored))
        let swapped = try ProcessRunner.run(sluice, check, environment: env)
        #expect(swapped.status == 1 && swapped.stdout.contains("NOT verified: model.pkl differs from what was signed"), "\(swapped.stdout)\(swapped.stderr)")

        let back = try ProcessRunner.run(sluice, ["rollback", "--repo", repo.path, "--state", state.path, "--reason", "test"], environment: env)
        #expect(back.status == 0, "\(back.stdout)\n\(back.stderr)")
        let after = try server.get("registered-models/alias?name=iris&alias=champion")["model_version"] as? [String: Any] ?? [:]
        #expect(after["version"] as? String == "1")
        let loaded1 = try compare(uri: "models:/iris@champion", run: 1, state: state, repo: repo, tracking: server.url).split(separator: " ")
        #expect(loaded1.first == "same")
        #expect(loaded1.count == 3 && loaded1[1] == loaded1[2], "after the rollback MLflow serves version 1's model.pkl")

        // The token went to MLflow as a header, and nowhere else.
        let report = try ProcessRunner.run(sluice, ["report", "3", "--repo", repo.path, "--state", state.path])
        #expect(report.stdout.contains("loads from mlflow-artifacts:/"))
        for output in [first, second, third, back, report] {
            #expect(!(output.stdout + output.stderr).contains("tok-never-printed-4711"))
        }
    }

    @Test(.enabled(if: RequiredTools.run(whenPresent: MLflowServer.isInstalled), "mlflow is not installed (pip install mlflow): SKIPPED"))
    func anUploadCutHalfwayLeavesNoVersionAndTheNextRunSucceeds() throws {
        let server = try MLflowServer()
        let proxy = try CuttingProxy(upstreamPort: server.port)
        let repo = try irisRepository()
        let state = TemporaryDirectory(prefix: "sluice-state")
        let env = ["MLFLOW_TRACKING_URI": proxy.url]

        proxy.cutUploads(true)
        let cut = try run(repo, state, env)
        #expect(!proxy.cuts.isEmpty, "an upload went through the proxy and was cut")
        #expect(cut.status == 2, "\(cut.stdout)\n\(cut.stderr)")
        #expect(cut.stderr.contains("the gate could not be evaluated: MLflow upload of model/"), "\(cut.stderr)")
        #expect(cut.stderr.contains("nothing was promoted"))
        let versions = try server.get("model-versions/search?filter=name%3D%27iris%27")["model_versions"] as? [[String: Any]] ?? []
        #expect(versions.isEmpty, "no model version without its files: \(versions)")
        let runs = try ProcessRunner.run("curl", ["-s", "-X", "POST", "-H", "Content-Type: application/json", "-d", #"{"experiment_ids":["1"]}"#,
                                                  server.url + "/api/2.0/mlflow/runs/search"])
        #expect(runs.stdout.contains("\"FAILED\"") && runs.stdout.contains("sluice.error"), "the cut run is kept, marked failed, with why: \(runs.stdout)")

        proxy.cutUploads(false)
        let retry = try run(repo, state, env)
        #expect(retry.status == 0, "\(retry.stdout)\n\(retry.stderr)")
        let champion = try server.get("registered-models/alias?name=iris&alias=champion")["model_version"] as? [String: Any] ?? [:]
        #expect(champion["version"] as? String == "1", "the retry registered the first (and only) version")
        let loaded = try compare(uri: "models:/iris@champion", run: 2, state: state, repo: repo, tracking: server.url)
        #expect(loaded.hasPrefix("same"))
    }

    @Test(.enabled(if: RequiredTools.run(whenPresent: MLflowServer.isInstalled && S3Emulator.isInstalled),
                   "mlflow or moto_server is not installed (pip install mlflow 'moto[server]'): SKIPPED"))
    func largeFilesGoUpInPartsWhenTheArtifactStoreTakesThem() throws {
        let s3 = try S3Emulator()
        // Since MLflow 3.18 the server offers presigned multipart uploads only when its operator opts in.
        let server = try MLflowServer(artifactsDestination: "s3://\(s3.bucket)/mlartifacts",
                                      environment: s3.serverEnvironment.merging(["MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD": "true"]) { $1 })
        let repo = try TestRepository()
        // 12 MB of weights (three 5 MB parts) and a small file (one request).
        try repo.commit("big model", files: [
            "sluice.yaml": """
                version: 1
                stages:
                  train:
                    run: [python3, -c, "import os, json; os.makedirs('model', exist_ok=True); open('model/weights.bin', 'wb').write(bytes(range(256)) * 46875); open('model/config.json', 'w').write('{}'); json.dump({'accuracy': 0.9}, open('metrics.json', 'w'))"]
                    outputs: [model/]
                    metrics: metrics.json
                gate:
                  policy: policies/p.yaml
                  model: big
                  registry: mlflow
                """,
            "policies/p.yaml": "rules:\n  - metric: accuracy\n    direction: higher\n    min: 0.8\n",
        ])
        let state = TemporaryDirectory(prefix: "sluice-state")
        let env = ["MLFLOW_TRACKING_URI": server.url, "MLFLOW_MULTIPART_UPLOAD_MINIMUM_FILE_SIZE": String(5 << 20),
                   "MLFLOW_MULTIPART_UPLOAD_CHUNK_SIZE": String(5 << 20)]
        let r = try run(repo, state, env)
        #expect(r.status == 0, "\(r.stdout)\n\(r.stderr)")
        let champion = try server.get("registered-models/alias?name=big&alias=champion")["model_version"] as? [String: Any] ?? [:]
        let runID = try #require(champion["run_id"] as? String)
        let objects = Dictionary(try s3.objects().map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a })
        let weights = try #require(objects["mlartifacts/1/\(runID)/artifacts/model/weights.bin"], "\(objects.keys)")
        #expect(weights.size == 12_000_000)
        #expect(weights.etag.hasSuffix("-3"), "uploaded in three parts: \(weights.etag)")
        let config = try #require(objects["mlartifacts/1/\(runID)/artifacts/model/config.json"])
        #expect(!config.etag.contains("-"), "a small file goes up in one request")
    }
}
