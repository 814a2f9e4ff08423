import Foundation
import Testing
import SluiceTestSupport

/// The `branch` deploy target: rendered manifests committed to `sluice/env/<environment>`.
@Suite struct DeployTests {
    let sluice = RepositoryLayout.sluiceBinary

    static let manifest = """
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: demo-server
          labels: { app: demo }
        spec:
          template:
            metadata:
              annotations:
                sluice.dev/version: "{{model.version}}"
                sluice.dev/digest: "{{model.digest}}"
            spec:
              containers:
                - name: server
                  image: "registry.example.com/demo:{{image.tag}}"
        ---
        apiVersion: v1
        kind: ConfigMap
        metadata: { name: demo-config }
        data: { dataset: "{{datasets.d}}", environment: "{{environment}}" }
        """

    func repository(manifest: String = manifest) throws -> TestRepository {
        let repo = try TestRepository()
        try repo.commit("first model", files: [
            "sluice.yaml": GateFlowTests.spec + "\ndeploy:\n  manifests: manifests/\n  target: branch\n  environment: staging\n  namespace: ml\n",
            "policies/p.yaml": GateFlowTests.policy, "data/d.csv": GateFlowTests.data(0), "manifests/app.yaml": manifest,
            "schemas/d.yaml": "columns:\n  x: { type: integer }\n  kind: { type: string }\n", "quality.json": GateFlowTests.quality(0.9),
        ])
        return repo
    }

    @Test func promotionsCommitRenderedManifestsAndRollbackIsANewCommit() throws {
        let repo = try repository()
        let state = TemporaryDirectory(prefix: "sluice-state")
        let first = try ProcessRunner.run(sluice, ["run", "--repo", repo.path, "--state", state.path])
        #expect(first.status == 0, "\(first.stdout)\n\(first.stderr)")
        #expect(first.stdout.contains("deploy: branch sluice/env/staging updated"))
        #expect(try repo.git(["ls-tree", "-r", "--name-only", "sluice/env/staging"]).split(separator: "\n") == ["ml/configmap-demo-config.yaml", "ml/deployment-demo-server.yaml"])
        let deployment = try repo.git(["show", "sluice/env/staging:ml/deployment-demo-server.yaml"])
        #expect(deployment.contains("sluice.dev/version: '1'"))
        #expect(deployment.contains("namespace: 'ml'"))
        #expect(deployment.contains("app.kubernetes.io/managed-by: 'sluice'"))
        #expect(try repo.git(["log", "-1", "--format=%s", "sluice/env/staging"]) == "Deploy demo version 1 to staging")

        // A rejected candidate changes nothing in the environment; the report says what it would have changed.
        try repo.commit("worse", files: ["data/d.csv": GateFlowTests.data(40), "quality.json": GateFlowTests.quality(0.85)])
        let rejected = try ProcessRunner.run(sluice, ["run", "--repo", repo.path, "--state", state.path])
        #expect(rejected.status == 1)
        #expect(try repo.git(["rev-list", "--count", "sluice/env/staging"]) == "1")
        let report = try ProcessRunner.run(sluice, ["report", "last", "--state", state.path])
        #expect(report.stdout.contains("- ~ deployment ml/demo-server"))
        #expect(report.stdout.contains("~ spec.template.metadata.annotations.sluice.dev/version: 1 → 2"), "field paths: \(report.stdout)")

        try repo.commit("better", files: ["quality.json": GateFlowTests.quality(0.95)])
        let promoted = try ProcessRunner.run(sluice, ["run", "--repo", repo.path, "--state", state.path])
        #expect(promoted.status == 0, "\(promoted.stdout)\n\(promoted.stderr)")
        #expect(try repo.git(["show", "sluice/env/staging:ml/deployment-demo-server.yaml"]).contains("sluice.dev/version: '3'"))

        let status = try ProcessRunner.run(sluice, ["status", "--repo", repo.path, "--state", state.path])
        #expect(status.stdout.contains("demo: version 3 in production"))
        #expect(status.stdout.contains("staging: branch sluice/env/staging at"))
        #expect(status.stdout.contains("in sync with production"))
        let diff = try ProcessRunner.run(sluice, ["diff", "--repo", repo.path, "--state", state.path])
        #expect(diff.status == 0)
        #expect(diff.stdout.contains("no changes"))

        // Rolling back writes a new commit with version 1's manifests; history is kept.
        let back = try ProcessRunner.run(sluice, ["rollback", "--reason", "errors in production", "--repo", repo.path, "--state", state.path])
        #expect(back.status == 0, "\(back.stderr)")
        #expect(back.stdout.contains("deploy: branch sluice/env/staging updated"))
        #expect(try repo.git(["log", "-1", "--format=%s", "sluice/env/staging"]) == "Roll back to demo version 1 to staging")
        #expect(try repo.git(["rev-list", "--count", "sluice/env/staging"]) == "3")
        #expect(try repo.git(["show", "sluice/env/staging:ml/deployment-demo-server.yaml"]).contains("sluice.dev/version: '1'"))
    }

    @Test func aTemplateWithAnUnknownValueRejectsTheCandidateWithItsLocation() throws {
        let repo = try repository(manifest: Self.manifest.replacingOccurrences(of: "{{model.digest}}", with: "{{model.digets}}"))
        let state = TemporaryDirectory(prefix: "sluice-state")
        let r = try ProcessRunner.run(sluice, ["run", "--repo", repo.path, "--state", state.path])
        #expect(r.status == 1)
        #expect(r.stdout.contains("gate: reject"))
        let report = try ProcessRunner.run(sluice, ["report", "last", "--state", state.path])
        #expect(report.stdout.contains("the manifests do not render"))
        #expect(report.stdout.contains("manifests/app.yaml:11:29: error: unknown value 'model.digets'"))
        #expect((try? repo.git(["rev-parse", "--verify", "-q", "sluice/env/staging"])) == nil, "nothing was deployed")
        let render = try ProcessRunner.run(sluice, ["render", "--repo", repo.path, "--state", state.path])
        #expect(render.status == 1)
        #expect(render.stderr.contains("manifests/app.yaml:11:29: error: unknown value 'model.digets' in the template; did you mean 'model.digest'?"))
    }

    @Test func aTemplateThatRendersToInvalidYAMLIsLocated() throws {
        let repo = try repository(manifest: "apiVersion: v1\nkind: ConfigMap\nmetadata: { name: x }\ndata: [ {{environment}}\n")
        let render = try ProcessRunner.run(sluice, ["render", "--repo", repo.path, "--state", TemporaryDirectory().path])
        #expect(render.status == 1)
        #expect(render.stderr.contains("manifests/app.yaml (rendered):5:1: error: the template renders to invalid YAML"))
    }

    @Test func theEnvironmentBranchIsPushedToARemote() throws {
        let repo = try repository()
        let server = TemporaryDirectory(prefix: "sluice-remote")
        try ProcessRunner.run("git", ["clone", "-q", "--bare", repo.path, server.path + "/demo.git"])
        let state = TemporaryDirectory(prefix: "sluice-state")
        let r = try ProcessRunner.run(sluice, ["run", "--repo", "file://" + server.path + "/demo.git", "--state", state.path])
        #expect(r.status == 0, "\(r.stdout)\n\(r.stderr)")
        let log = try ProcessRunner.run("git", ["--git-dir", server.path + "/demo.git", "log", "-1", "--format=%s", "sluice/env/staging"])
        #expect(log.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "Deploy demo version 1 to staging", "\(log.stderr)")
    }
}
