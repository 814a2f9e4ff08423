import Foundation
import Testing
import SluiceTestSupport

/// The gate flow with the MLflow backend against a real `mlflow server`.
@Suite(.serialized) struct MLflowRegistryTests {
    let sluice = RepositoryLayout.sluiceBinary

    func repository() throws -> TestRepository {
        let repo = try TestRepository()
        try repo.commit("first model", files: [
            "sluice.yaml": GateFlowTests.spec + "\n  registry: mlflow\n  alias: champion\n",
            "policies/p.yaml": GateFlowTests.policy, "data/d.csv": GateFlowTests.data(0),
            "schemas/d.yaml": "columns:\n  x: { type: integer }\n  kind: { type: string }\n", "quality.json": GateFlowTests.quality(0.9),
        ])
        return repo
    }

    func champion(_ server: MLflowServer) throws -> [String: Any] {
        try server.get("registered-models/alias?name=demo&alias=champion")["model_version"] as? [String: Any] ?? [:]
    }

    static func tags(_ version: [String: Any]) -> [String: String] {
        Dictionary(uniqueKeysWithValues: ((version["tags"] as? [[String: Any]]) ?? []).map { ($0["key"] as! String, $0["value"] as! String) })
    }

    @Test(.enabled(if: RequiredTools.run(whenPresent: MLflowServer.isInstalled), "mlflow is not installed (pip install mlflow): SKIPPED"))
    func promoteRejectPromoteMovesTheAlias() throws {
        let server = try MLflowServer()
        let repo = try repository()
        let state = TemporaryDirectory(prefix: "sluice-state")
        let env = ["MLFLOW_TRACKING_URI": server.url]
        let c1 = try repo.git(["rev-parse", "HEAD"])
        let first = try ProcessRunner.run(sluice, ["run", "--repo", repo.path, "--state", state.path], environment: env)
        #expect(first.status == 0, "\(first.stdout)\n\(first.stderr)")
        #expect(try champion(server)["version"] as? String == "1")
        let tags = Self.tags(try champion(server))
        #expect(tags["sluice.commit"] == c1)
        #expect(tags["metric.accuracy"] == "0.9")
        #expect(tags["sluice.dataset.d"] != nil)
        let report = try ProcessRunner.run(sluice, ["report", "1", "--repo", repo.path, "--state", state.path])
        #expect(report.stdout.contains("'model' is not an MLflow model folder (no MLmodel file)"), "\(report.stdout)")
        let files = try server.get("artifacts/list?run_id=\(try champion(server)["run_id"] as? String ?? "")&path=model")["files"] as? [[String: Any]] ?? []
        #expect(files.compactMap { $0["path"] as? String } == ["model/weights.csv"], "the output's files are the run's artifacts")

        try repo.commit("worse", files: ["data/d.csv": GateFlowTests.data(40), "quality.json": GateFlowTests.quality(0.85)])
        let second = try ProcessRunner.run(sluice, ["run", "--repo", repo.path, "--state", state.path], environment: env)
        #expect(second.status == 1)
        #expect(second.stdout.contains("worse than production by 0.05"), "production metrics come from MLflow's tags")
        #expect(try champion(server)["version"] as? String == "1", "a rejected candidate is a version, but not the champion")
        #expect(try server.get("model-versions/get?name=demo&version=2")["model_version"] != nil)

        try repo.commit("better", files: ["quality.json": GateFlowTests.quality(0.95)])
        let third = try ProcessRunner.run(sluice, ["run", "--repo", repo.path, "--state", state.path], environment: env)
        #expect(third.status == 0, "\(third.stdout)\n\(third.stderr)")
        #expect(try champion(server)["version"] as? String == "3")
        let log = try ProcessRunner.run(sluice, ["rollback", "--list", "--repo", repo.path, "--state", state.path], environment: env)
        #expect(log.stdout.split(separator: "\n").count == 2)
    }

    @Test(.enabled(if: RequiredTools.run(whenPresent: MLflowServer.isInstalled), "mlflow is not installed (pip install mlflow): SKIPPED"))
    func mlflowDownFailsClosedAndARetrySucceeds() throws {
        let repo = try repository()
        let state = TemporaryDirectory(prefix: "sluice-state")
        let port = try FreePort.next()
        let env = ["MLFLOW_TRACKING_URI": "http://127.0.0.1:\(port)"]
        let down = try ProcessRunner.run(sluice, ["run", "--repo", repo.path, "--state", state.path], environment: env)
        #expect(down.status == 2)
        #expect(down.stderr.contains("the gate could not be evaluated: MLflow at http://127.0.0.1:\(port) is unreachable"))
        #expect(down.stderr.contains("nothing was promoted"))
        let runs = try ProcessRunner.run(sluice, ["runs", "--repo", repo.path, "--state", state.path, "--format", "json"])
        #expect(runs.stdout.contains("the gate could not be evaluated"))
        #expect(runs.stdout.contains("\"verdict\" : \"could-not-evaluate\"") || runs.stdout.contains("\"verdict\":\"could-not-evaluate\""), "\(runs.stdout)")

        let server = try MLflowServer(port: port)
        let retry = try ProcessRunner.run(sluice, ["run", "--repo", repo.path, "--state", state.path], environment: env)
        #expect(retry.status == 0, "\(retry.stdout)\n\(retry.stderr)")
        #expect(retry.stdout.contains("is now in production"))
        #expect(try champion(server)["version"] as? String == "1")
    }
}
