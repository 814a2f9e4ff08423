import Foundation
import Testing
import SluiceTestSupport

/// The `kubernetes` target against the API emulator: apply, health, automatic rollback of a
/// failing rollout, pruning, and the API's errors in words.
@Suite struct KubernetesDeployTests {
    let sluice = RepositoryLayout.sluiceBinary

    static func manifest(image: String = "registry.example.com/demo:{{image.tag}}", withConfig: Bool = true) -> String {
        """
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: demo-server
        spec:
          replicas: 2
          selector: { matchLabels: { app: demo } }
          template:
            metadata:
              labels: { app: demo }
              annotations: { sluice.dev/version: "{{model.version}}" }
            spec:
              containers:
                - name: server
                  image: "\(image)"
        """ + (withConfig ? "\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: { name: demo-config }\ndata: { version: \"{{model.version}}\" }\n" : "\n")
    }

    public func repository(manifest: String = manifest()) throws -> TestRepository {
        let repo = try TestRepository()
        try repo.commit("first model", files: [
            "sluice.yaml": GateFlowTests.spec + "\ndeploy:\n  manifests: manifests/\n  target: kubernetes\n  environment: prod\n  namespace: ml\n  timeout: 60s\n",
            "policies/p.yaml": GateFlowTests.policy, "data/d.csv": GateFlowTests.data(0), "manifests/app.yaml": manifest,
            "schemas/d.yaml": "columns:\n  x: { type: integer }\n  kind: { type: string }\n", "quality.json": GateFlowTests.quality(0.9),
        ])
        return repo
    }

    func run(_ repo: TestRepository, _ state: TemporaryDirectory, _ k: KubeEmulator) throws -> ProcessResult {
        try ProcessRunner.run(sluice, ["run", "--repo", repo.path, "--state", state.path], environment: ["KUBECONFIG": k.kubeconfig])
    }

    /// Dry runs and object reads the server answered since `before`.
    static func dryRunsAndReads(_ k: KubeEmulator, since before: [String: Any]) throws -> (dryRuns: Int, gets: Int) {
        let now = try k.stats()
        func verb(_ s: [String: Any], _ v: String) -> Int { (s["by_verb"] as? [String: Int])?[v] ?? 0 }
        let writes = (now["writes"] as? Int ?? 0) - (before["writes"] as? Int ?? 0)
        return (verb(now, "PATCH") - verb(before, "PATCH") - writes, verb(now, "GET") - verb(before, "GET"))
    }

    @Test func anUnchangedEnvironmentIsCheckedByListsAndAnEditOnTheClusterIsStillFound() throws {
        let k = try KubeEmulator(namespace: "ml")
        let repo = try repository()
        let state = TemporaryDirectory(prefix: "sluice-state")
        #expect(try run(repo, state, k).status == 0)
        let env = ["KUBECONFIG": k.kubeconfig]

        // Nothing changed since Sluice applied: one list per kind, no dry run, no write.
        let before = try k.stats()
        let diff = try ProcessRunner.run(sluice, ["diff", "--repo", repo.path, "--state", state.path], environment: env)
        #expect(diff.status == 0 && diff.stdout.contains("no changes"), "\(diff.stdout)\n\(diff.stderr)")
        let quiet = try Self.dryRunsAndReads(k, since: before)
        // The ConfigMap is as Sluice left it; the Deployment's status moved on the cluster (its
        // resourceVersion with it), so it alone is dry-run.
        #expect(quiet.dryRuns == 1, "no dry run for objects as Sluice left them: \(quiet.dryRuns)")
        #expect(quiet.gets <= 6, "a list per kind (plus discovery), not a read per object: \(quiet.gets) GETs")

        // Someone labels one object: its resourceVersion moves, so it is dry-run again (the label
        // is not Sluice's, so applying would change nothing).
        #expect(try k.kubectl(["-n", "ml", "label", "configmap", "demo-config", "team=ml-platform"]).status == 0)
        let afterEdit = try k.stats()
        let again = try ProcessRunner.run(sluice, ["diff", "--repo", repo.path, "--state", state.path], environment: env)
        #expect(again.status == 0 && again.stdout.contains("no changes"), "\(again.stdout)\n\(again.stderr)")
        #expect(try Self.dryRunsAndReads(k, since: afterEdit).dryRuns == 2, "the edited object and the Deployment are dry-run")
        // Deleted on the cluster: drift, as before.
        #expect(try k.kubectl(["-n", "ml", "delete", "configmap", "demo-config"]).status == 0)
        let gone = try ProcessRunner.run(sluice, ["diff", "--repo", repo.path, "--state", state.path], environment: env)
        #expect(gone.stdout.contains("+ configmap ml/demo-config (new)"), "\(gone.stdout)\n\(gone.stderr)")
    }

    @Test func promotedModelsRollOutAndAFailingRolloutIsRolledBack() throws {
        let k = try KubeEmulator(namespace: "ml")
        let repo = try repository()
        let state = TemporaryDirectory(prefix: "sluice-state")
        let first = try run(repo, state, k)
        #expect(first.status == 0, "\(first.stdout)\n\(first.stderr)")
        #expect(first.stdout.contains("deploy: kubernetes:emulator: 2 objects changed; healthy"))
        let live = try k.kubectl(["get", "deploy", "demo-server", "-n", "ml", "-o", "jsonpath={.spec.template.metadata.annotations.sluice\\.dev/version} {.metadata.labels.app\\.kubernetes\\.io/managed-by}"])
        #expect(live.stdout == "1 sluice", "\(live.stderr)")

        // A better model whose rollout never becomes healthy: promoted, then rolled back automatically.
        try repo.commit("better model, broken image", files: [
            "quality.json": GateFlowTests.quality(0.95), "manifests/app.yaml": Self.manifest(image: "registry.example.com/demo:fail-rollout"),
        ])
        let second = try run(repo, state, k)
        #expect(second.status == 1, "\(second.stdout)\n\(second.stderr)")
        #expect(second.stdout.contains("NOT healthy: deployment \"demo-server\" exceeded its progress deadline"))
        #expect(second.stdout.contains("deploy: rolled back to version 1"))
        let after = try k.kubectl(["get", "deploy", "demo-server", "-n", "ml", "-o", "jsonpath={.spec.template.metadata.annotations.sluice\\.dev/version}"])
        #expect(after.stdout == "1")
        let log = try ProcessRunner.run(sluice, ["rollback", "--list", "--repo", repo.path, "--state", state.path], environment: ["KUBECONFIG": k.kubeconfig])
        let lines = log.stdout.split(separator: "\n")
        #expect(lines.count == 3)
        #expect(lines.last?.contains("rollback  version 1  (from 2)") == true)
        #expect(lines.last?.contains("rollout of version 2 failed: deployment \"demo-server\" exceeded its progress deadline") == true)
        let report = try ProcessRunner.run(sluice, ["report", "last", "--state", state.path])
        #expect(report.stdout.contains("rolled back to version 1"))
    }

    @Test func objectsNoLongerRenderedArePrunedButNothingElse() throws {
        let k = try KubeEmulator(namespace: "ml")
        let repo = try repository()
        let state = TemporaryDirectory(prefix: "sluice-state")
        #expect(try run(repo, state, k).status == 0)
        // Someone else's ConfigMap in the same namespace.
        let scratch = TemporaryDirectory()
        let theirs = scratch.write("cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: { name: theirs, namespace: ml }\ndata: { a: b }\n")
        #expect(try k.kubectl(["apply", "--server-side", "-f", theirs]).status == 0)

        try repo.commit("drop the config", files: ["quality.json": GateFlowTests.quality(0.93), "manifests/app.yaml": Self.manifest(withConfig: false)])
        let r = try run(repo, state, k)
        #expect(r.status == 0, "\(r.stdout)\n\(r.stderr)")
        #expect(r.stdout.contains("pruned ConfigMap ml/demo-config"))
        let names = try k.kubectl(["get", "configmaps", "-n", "ml", "-o", "name"]).stdout
        #expect(names.trimmingCharacters(in: .whitespacesAndNewlines) == "configmap/theirs")
    }

    @Test func apiErrorsAreShownInWords() throws {
        let k = try KubeEmulator(namespace: "ml")
        let repo = try repository()
        let state = TemporaryDirectory(prefix: "sluice-state")
        #expect(try run(repo, state, k).status == 0)
        let env = ["KUBECONFIG": k.kubeconfig]

        let unknown = try repository(manifest: "apiVersion: example.com/v1\nkind: Widget\nmetadata: { name: w }\n")
        let missState = TemporaryDirectory()
        let miss = try ProcessRunner.run(sluice, ["run", "--repo", unknown.path, "--state", missState.path], environment: env)
        #expect(miss.status == 1)
        let missReport = try ProcessRunner.run(sluice, ["report", "last", "--state", missState.path])
        #expect(missReport.stdout.contains("the cluster refuses these manifests, so this candidate cannot be deployed: the server does not serve example.com/v1 (kind Widget)"),
                "\(missReport.stdout)")

        let invalid = try repository(manifest: Self.manifest().replacingOccurrences(of: "replicas: 2", with: "replicas: -1"))
        let invalidState = TemporaryDirectory()
        let unprocessable = try ProcessRunner.run(sluice, ["run", "--repo", invalid.path, "--state", invalidState.path], environment: env)
        #expect(unprocessable.status == 1)
        let invalidReport = try ProcessRunner.run(sluice, ["report", "last", "--state", invalidState.path])
        #expect(invalidReport.stdout.contains("spec.replicas: Invalid value: -1: must be greater than or equal to 0"), "\(invalidReport.stdout)")

        try k.hook("deny/patch/deployments")
        let forbidden = try ProcessRunner.run(sluice, ["deploy", "--repo", repo.path, "--state", state.path], environment: env)
        #expect(forbidden.status == 2)
        #expect(forbidden.stderr.contains("forbidden (403)"))
        #expect(forbidden.stderr.contains("cannot patch resource \"deployments\" in API group \"apps\""))

        let scratch = TemporaryDirectory()
        let gone = scratch.write("kubeconfig", """
            apiVersion: v1
            kind: Config
            clusters: [ { name: c, cluster: { server: "http://127.0.0.1:\(try FreePort.next())" } } ]
            users: [ { name: u, user: { token: t } } ]
            contexts: [ { name: x, context: { cluster: c, user: u } } ]
            current-context: x
            """)
        let unreachable = try ProcessRunner.run(sluice, ["diff", "--repo", repo.path, "--state", state.path], environment: ["KUBECONFIG": gone])
        #expect(unreachable.status == 2)
        #expect(unreachable.stderr.contains("the Kubernetes API server at http://127.0.0.1:"))
        #expect(unreachable.stderr.contains("is unreachable"))
    }
}

@Suite struct KubernetesAccessTests {
    let sluice = RepositoryLayout.sluiceBinary

    func promoted(_ k: KubeEmulator) throws -> (TestRepository, TemporaryDirectory) {
        let repo = try KubernetesDeployTests().repository()
        let state = TemporaryDirectory(prefix: "sluice-state")
        let r = try ProcessRunner.run(sluice, ["run", "--repo", repo.path, "--state", state.path], environment: ["KUBECONFIG": k.kubeconfig])
        #expect(r.status == 0, "\(r.stdout)\n\(r.stderr)")
        return (repo, state)
    }

    @Test func httpsWithTheClusterCAWorksAndAWrongCAIsRefused() throws {
        let k = try KubeEmulator(namespace: "ml", tls: true)
        let (repo, state) = try promoted(k)
        let ok = try ProcessRunner.run(sluice, ["diff", "--repo", repo.path, "--state", state.path], environment: ["KUBECONFIG": k.kubeconfig])
        #expect(ok.status == 0, "\(ok.stdout)\n\(ok.stderr)")

        let wrong = try KubeEmulator(namespace: "ml", tls: true, trustAnotherCA: true)
        let refused = try ProcessRunner.run(sluice, ["diff", "--repo", repo.path, "--state", state.path], environment: ["KUBECONFIG": wrong.kubeconfig])
        #expect(refused.status == 2)
        #expect(refused.stderr.contains("TLS with https://127.0.0.1:"))
        #expect(refused.stderr.contains("the certificate authority in the kubeconfig does not match the server's certificate; verification stays on"),
                "\(refused.stderr)")

        // The right CA, the wrong host name: said as such, not blamed on the CA.
        let misnamed = try KubeEmulator(namespace: "ml", tls: true, host: "localhost")
        let mismatch = try ProcessRunner.run(sluice, ["diff", "--repo", repo.path, "--state", state.path], environment: ["KUBECONFIG": misnamed.kubeconfig])
        #expect(mismatch.status == 2)
        #expect(mismatch.stderr.contains("the server's certificate is for another host name") && !mismatch.stderr.contains("certificate authority"),
                "\(mismatch.stderr)")
    }

    @Test func anExpiredTokenSaysSo() throws {
        let k = try KubeEmulator(namespace: "ml")
        let (repo, state) = try promoted(k)
        let expired = try KubeEmulator(namespace: "ml", token: "expired")
        let r = try ProcessRunner.run(sluice, ["diff", "--repo", repo.path, "--state", state.path], environment: ["KUBECONFIG": expired.kubeconfig])
        #expect(r.status == 2)
        #expect(r.stderr.contains("refused the credentials (401 Unauthorized: Unauthorized); the token may have expired"))
        #expect(!r.stderr.contains("expired\""), "the token itself is not printed")
    }
}

extension KubernetesAccessTests {
    @Test func busyAndFailingAnswersAreRetried() throws {
        let k = try KubeEmulator(namespace: "ml")
        let (repo, state) = try promoted(k)
        try k.hook("flaky/4")
        let r = try ProcessRunner.run(sluice, ["diff", "--repo", repo.path, "--state", state.path], environment: ["KUBECONFIG": k.kubeconfig])
        #expect(r.status == 0, "\(r.stdout)\n\(r.stderr)")
        #expect(r.stdout.contains("no changes"))
        #expect(try k.stats()["refused"] as? Int == 4, "two 429s (Retry-After honoured) and two 503s were retried")

        // Busy for longer than the retries last: the message says it retried.
        try k.hook("flaky/20")
        let busy = try ProcessRunner.run(sluice, ["diff", "--repo", repo.path, "--state", state.path], environment: ["KUBECONFIG": k.kubeconfig])
        #expect(busy.status == 2)
        #expect(busy.stderr.contains("gave up after 5 attempts"), "\(busy.stderr)")
        try k.hook("flaky/0")
    }

    /// A field another manager took over: the conflict is said once, and `sluice status` still
    /// shows the workloads' health.
    @Test func aConflictIsSaidOnceAndStatusStillShowsHealth() throws {
        let k = try KubeEmulator(namespace: "ml")
        let (repo, state) = try promoted(k)
        let scratch = TemporaryDirectory()
        let theirs = scratch.write("cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: { name: demo-config, namespace: ml }\ndata: { version: hand-edited }\n")
        let taken = try k.kubectl(["apply", "--server-side", "--field-manager=ops", "--force-conflicts", "-f", theirs])
        #expect(taken.status == 0, "\(taken.stderr)")
        let deploy = try ProcessRunner.run(sluice, ["deploy", "--repo", repo.path, "--state", state.path], environment: ["KUBECONFIG": k.kubeconfig])
        #expect(deploy.status != 0)
        #expect(deploy.stderr.components(separatedBy: "conflict with \"ops\"").count == 2, "said once: \(deploy.stderr)")
        #expect(deploy.stderr.contains("set 'force: true' under deploy"))
        let status = try ProcessRunner.run(sluice, ["status", "--repo", repo.path, "--state", state.path], environment: ["KUBECONFIG": k.kubeconfig])
        #expect(status.status == 0, "\(status.stdout)\n\(status.stderr)")
        #expect(status.stdout.contains("not compared:") && status.stdout.contains("Deployment ml/demo-server: healthy"), "\(status.stdout)")
    }
}
