import Foundation
import Testing
import SluiceTestSupport

/// Deploys that are safe on a real cluster (issue: "prune, namespaces, validation"): each test
/// is one defect that destroyed or blocked work, against the emulator (which, like
/// kube-apiserver, answers 404 for an object in a missing namespace and deletes a namespace's
/// objects with it).
@Suite struct ClusterSafetyTests {
    let sluice = RepositoryLayout.sluiceBinary

    static func spec(model: String = "demo", namespace: String, prune: String = "") -> String {
        GateFlowTests.spec.replacingOccurrences(of: "  model: demo", with: "  model: \(model)")
            + "\ndeploy:\n  manifests: manifests/\n  target: kubernetes\n  environment: production\n  namespace: \(namespace)\n  timeout: 60s\n" + prune
    }

    static let config = "apiVersion: v1\nkind: ConfigMap\nmetadata: { name: NAME }\ndata: { version: \"{{model.version}}\" }\n"

    func repository(_ files: [String: String], model: String = "demo", namespace: String, prune: String = "") throws -> TestRepository {
        let repo = try TestRepository()
        var all = ["sluice.yaml": Self.spec(model: model, namespace: namespace, prune: prune), "policies/p.yaml": GateFlowTests.policy,
                   "data/d.csv": GateFlowTests.data(0), "schemas/d.yaml": ReconcilerTests.schema, "quality.json": GateFlowTests.quality(0.9)]
        for (k, v) in files { all[k] = v }
        try repo.commit("first model", files: all)
        return repo
    }

    /// A ConfigMap `theirs` that someone else applied (with kubectl) into `namespace`.
    func applyAnotherTeamsConfigMap(_ k: KubeEmulator, namespace: String) throws {
        let scratch = TemporaryDirectory()
        let theirs = scratch.write("cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: { name: theirs, namespace: \(namespace) }\ndata: { a: b }\n")
        #expect(try k.kubectl(["apply", "--server-side", "-f", theirs]).status == 0)
    }

    func run(_ repo: TestRepository, _ state: TemporaryDirectory, _ k: KubeEmulator) throws -> ProcessResult {
        try ProcessRunner.run(sluice, ["run", "--repo", repo.path, "--state", state.path], environment: ["KUBECONFIG": k.kubeconfig])
    }

    /// Defects 1 and 3: the first deploy into a namespace the manifests create was rejected (a
    /// dry run cannot see a namespace it did not create); removing the Namespace manifest then
    /// deleted the namespace and everything in it, other teams' objects included.
    @Test func aNamespaceTheManifestsCreateIsDeployedIntoAndNeverPruned() throws {
        let k = try KubeEmulator(namespace: "default")
        let repo = try repository(["manifests/00-namespace.yaml": "apiVersion: v1\nkind: Namespace\nmetadata: { name: team-ml }\n",
                                   "manifests/config.yaml": Self.config.replacingOccurrences(of: "NAME", with: "model-config")], namespace: "team-ml")
        let state = TemporaryDirectory(prefix: "sluice-state")
        let first = try run(repo, state, k)
        #expect(first.status == 0, "\(first.stdout)\n\(first.stderr)")
        #expect(first.stdout.contains("is now in production") && first.stdout.contains("2 objects changed; healthy"), "\(first.stdout)")
        let report = try ProcessRunner.run(sluice, ["report", "last", "--repo", repo.path, "--state", state.path]).stdout
        #expect(report.contains("namespace team-ml does not exist yet (these manifests create it): 1 object in it checked against the server's OpenAPI schema"), "\(report)")

        // Another team's object in the namespace; then the Namespace manifest goes away.
        try applyAnotherTeamsConfigMap(k, namespace: "team-ml")
        try repo.remove("manifests/00-namespace.yaml")
        try repo.commit("the namespace is managed elsewhere now", files: ["quality.json": GateFlowTests.quality(0.93)])
        let second = try run(repo, state, k)
        #expect(second.status == 0, "\(second.stdout)\n\(second.stderr)")
        #expect(second.stdout.contains("left in place: Namespace team-ml: it is deploy.namespace"), "\(second.stdout)")
        #expect(try k.kubectl(["get", "namespace", "team-ml", "-o", "name"]).stdout.contains("namespace/team-ml"))
        #expect(try k.kubectl(["get", "configmap", "theirs", "-n", "team-ml", "-o", "name"]).status == 0, "the other team's object survives")
    }

    /// `prune: { namespaces: true }` deletes a namespace this environment stopped rendering,
    /// but not one that holds an object Sluice did not apply.
    @Test func namespacesArePrunedOnlyWhenAskedAndEmptyOfOthersObjects() throws {
        let k = try KubeEmulator(namespace: "ml")
        let namespaces = "apiVersion: v1\nkind: Namespace\nmetadata: { name: scratch-a }\n---\napiVersion: v1\nkind: Namespace\nmetadata: { name: scratch-b }\n"
        let repo = try repository(["manifests/namespaces.yaml": namespaces,
                                   "manifests/config.yaml": Self.config.replacingOccurrences(of: "NAME", with: "model-config")],
                                  namespace: "ml", prune: "  prune: { namespaces: true }\n")
        let state = TemporaryDirectory(prefix: "sluice-state")
        #expect(try run(repo, state, k).status == 0)
        try applyAnotherTeamsConfigMap(k, namespace: "scratch-b")
        try repo.remove("manifests/namespaces.yaml")
        try repo.commit("no scratch namespaces", files: ["quality.json": GateFlowTests.quality(0.93)])
        let second = try run(repo, state, k)
        #expect(second.status == 0, "\(second.stdout)\n\(second.stderr)")
        #expect(second.stdout.contains("pruned Namespace scratch-a"), "\(second.stdout)")
        #expect(second.stdout.contains("Namespace scratch-b: it holds ConfigMap theirs, which Sluice did not apply"), "\(second.stdout)")
        #expect(try k.kubectl(["get", "namespace", "scratch-a"]).status != 0)
        #expect(try k.kubectl(["get", "configmap", "theirs", "-n", "scratch-b", "-o", "name"]).status == 0)
    }

    /// Defect 2: two repositories whose environment has the same name pruned each other's
    /// objects (the inventory was keyed by environment alone). Both run through one controller.
    @Test func twoRepositoriesWithTheSameEnvironmentDoNotPruneEachOther() throws {
        let k = try KubeEmulator(namespace: "ml")
        let a = try repository(["manifests/config.yaml": Self.config.replacingOccurrences(of: "NAME", with: "config-a")], model: "model-a", namespace: "ml")
        let b = try repository(["manifests/config.yaml": Self.config.replacingOccurrences(of: "NAME", with: "config-b")], model: "model-b", namespace: "ml")
        let dir = TemporaryDirectory(prefix: "sluice-controller")
        let config = dir.write("controller.yaml", """
            listen: 127.0.0.1:0
            interval: 1s
            repositories:
              - { name: a, url: \(a.path), merge-requests: false }
              - { name: b, url: \(b.path), merge-requests: false }

            """)
        let watch = try BackgroundProcess(sluice, ["watch", "--config", config, "--state", dir.path + "/state"], readyPrefix: "sluice: listening on 127.0.0.1:",
                                          environment: ["KUBECONFIG": k.kubeconfig], stderrFile: dir.path + "/controller.log")
        func configMaps() throws -> String { try k.kubectl(["get", "configmaps", "-n", "ml", "-o", "name"]).stdout }
        try waitUntil("both repositories deployed", timeout: 60) { try configMaps().contains("config-a") && configMaps().contains("config-b") }
        // Each deploys again (a new version); neither prunes the other's ConfigMap.
        try a.commit("a2", files: ["quality.json": GateFlowTests.quality(0.95)])
        try b.commit("b2", files: ["quality.json": GateFlowTests.quality(0.95)])
        try waitUntil("both second versions deployed", timeout: 60) {
            try k.kubectl(["get", "configmaps", "-n", "ml", "-o", "jsonpath={.items[*].data.version}"]).stdout == "2 2"
        }
        let log = try String(contentsOfFile: dir.path + "/controller.log", encoding: .utf8)
        #expect(!log.contains("pruned"), "\(log)")
        #expect(try configMaps().contains("config-a") && configMaps().contains("config-b"))
        withExtendedLifetime(watch) {}
    }

    /// Defect 4: a deploy that changes nothing listed every object as changed and wrote each.
    @Test func aDeployThatChangesNothingSaysSoAndWritesNothing() throws {
        let k = try KubeEmulator(namespace: "ml")
        let repo = try KubernetesDeployTests().repository()
        let state = TemporaryDirectory(prefix: "sluice-state")
        #expect(try ProcessRunner.run(sluice, ["run", "--repo", repo.path, "--state", state.path], environment: ["KUBECONFIG": k.kubeconfig]).status == 0)
        let before = try k.stats()["writes"] as? Int ?? 0
        let again = try ProcessRunner.run(sluice, ["deploy", "--repo", repo.path, "--state", state.path], environment: ["KUBECONFIG": k.kubeconfig])
        #expect(again.status == 0, "\(again.stdout)\n\(again.stderr)")
        #expect(again.stdout.contains(": no changes; healthy"), "\(again.stdout)")
        #expect(try k.stats()["writes"] as? Int ?? 0 == before, "an unchanged object gets no write")
        let diff = try ProcessRunner.run(sluice, ["diff", "--repo", repo.path, "--state", state.path], environment: ["KUBECONFIG": k.kubeconfig])
        #expect(diff.status == 0, "\(diff.stdout)\n\(diff.stderr)")
    }

    static let kustomizeFiles: [String: String] = [
        "deploy/base/kustomization.yaml": "resources: [deployment.yaml, config.yaml]\n",
        "deploy/base/deployment.yaml": KubernetesDeployTests.manifest(withConfig: false),
        "deploy/base/config.yaml": config.replacingOccurrences(of: "NAME", with: "demo-config"),
        "deploy/overlays/production/kustomization.yaml": """
            resources: [../../base]
            labels:
              - pairs: { tier: production }
            patches:
              - target: { kind: Deployment, name: demo-server }
                patch: |-
                  - op: replace
                    path: /spec/replicas
                    value: 3

            """,
        "deploy/overlays/staging/kustomization.yaml": """
            resources: [../../base]
            namePrefix: staging-
            patches:
              - target: { kind: Deployment, name: demo-server }
                patch: |-
                  - op: replace
                    path: /spec/replicas
                    value: 1

            """,
    ]

    /// A Kustomize base with staging and production overlays, built by the real `kubectl
    /// kustomize` after the model's facts are filled in, and deployed.
    @Test func aKustomizationWithOverlaysIsBuiltAndDeployed() throws {
        let k = try KubeEmulator(namespace: "ml")
        let spec = Self.spec(namespace: "ml").replacingOccurrences(of: "manifests: manifests/", with: "manifests: deploy/overlays/production")
        var files = Self.kustomizeFiles
        files["sluice.yaml"] = spec
        let repo = try repository(files, namespace: "ml")
        let state = TemporaryDirectory(prefix: "sluice-state")
        let first = try run(repo, state, k)
        #expect(first.status == 0, "\(first.stdout)\n\(first.stderr)")
        let production = try k.kubectl(["get", "deploy", "demo-server", "-n", "ml", "-o",
                                        "jsonpath={.spec.replicas} {.metadata.labels.tier} {.spec.template.metadata.annotations.sluice\\.dev/version}"])
        #expect(production.stdout == "3 production 1", "\(production.stdout)\(production.stderr)")
        #expect(try k.kubectl(["get", "configmap", "demo-config", "-n", "ml", "-o", "jsonpath={.data.version}"]).stdout == "1")

        // The staging overlay, as another environment.
        try repo.commit("staging", files: ["sluice.yaml": spec.replacingOccurrences(of: "overlays/production", with: "overlays/staging")
            .replacingOccurrences(of: "environment: production", with: "environment: staging"), "quality.json": GateFlowTests.quality(0.93)])
        let second = try run(repo, state, k)
        #expect(second.status == 0, "\(second.stdout)\n\(second.stderr)")
        #expect(try k.kubectl(["get", "deploy", "staging-demo-server", "-n", "ml", "-o", "jsonpath={.spec.replicas}"]).stdout == "1")

        // A kustomization that names a missing file: kustomize's error, at the kustomization, without the temporary path.
        try repo.commit("typo", files: ["deploy/base/kustomization.yaml": "resources: [deployment.yaml, confg.yaml]\n", "quality.json": GateFlowTests.quality(0.94)])
        let broken = try ProcessRunner.run(sluice, ["render", "--repo", repo.path, "--state", state.path], environment: ["KUBECONFIG": k.kubeconfig])
        #expect(broken.status != 0)
        #expect(broken.stderr.contains("deploy/overlays/staging/kustomization.yaml:1:1: error: kubectl kustomize failed:") && broken.stderr.contains("deploy/base/confg.yaml")
                && !broken.stderr.contains("sluice-kustomize-"), "\(broken.stderr)")
    }

    /// What the published schema refuses is refused before anything is applied: a field it does not
    /// declare (the server cannot type the patch: not retried), and, in a namespace the manifests
    /// create (no dry run possible), a value of the wrong type, found by the schema check.
    @Test func manifestsTheSchemaRefusesRejectTheCandidate() throws {
        let k = try KubeEmulator(namespace: "ml")
        let unknown = try repository(["manifests/config.yaml": Self.config.replacingOccurrences(of: "NAME", with: "cfg") + "foo: bar\n"], namespace: "ml")
        let state = TemporaryDirectory(prefix: "sluice-state")
        let r = try run(unknown, state, k)
        #expect(r.status != 0)
        let report = try ProcessRunner.run(sluice, ["report", "last", "--repo", unknown.path, "--state", state.path]).stdout
        #expect(report.contains("the cluster refuses these manifests") && report.contains(".foo: field not declared in schema") && !report.contains("gave up after"),
                "\(report)\n\(r.stdout)\n\(r.stderr)")

        let typed = try repository(["manifests/00-namespace.yaml": "apiVersion: v1\nkind: Namespace\nmetadata: { name: fresh }\n",
                                    "manifests/config.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: { name: cfg }\ndata: { count: 3 }\n"], namespace: "fresh")
        let state2 = TemporaryDirectory(prefix: "sluice-state")
        let t = try run(typed, state2, k)
        #expect(t.status != 0)
        let typedReport = try ProcessRunner.run(sluice, ["report", "last", "--repo", typed.path, "--state", state2.path]).stdout
        #expect(typedReport.contains("ConfigMap fresh/cfg is invalid against the server's OpenAPI schema: data.count: expected a string, found a number"), "\(typedReport)")
        #expect(try k.kubectl(["get", "namespace", "fresh"]).status != 0, "nothing was applied")
    }
}
