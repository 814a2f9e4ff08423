import Foundation
import Testing
import SluiceTestSupport

/// The Kubernetes API emulator earns trust by behaving as a real cluster for the real
/// kubectl (1.27, 1.30 and 1.33: the dispatcher runs the kubectl matching the server's version;
/// 1.27-1.29 read discovery v2beta1 and the protobuf OpenAPI v2 document, 1.30+ discovery v2).
@Suite struct KubeEmulatorFidelityTests {
    static let manifests = """
        apiVersion: apps/v1
        kind: Deployment
        metadata: { name: web, labels: { app: web } }
        spec:
          replicas: 2
          selector: { matchLabels: { app: web } }
          template:
            metadata: { labels: { app: web } }
            spec: { containers: [ { name: c, image: "nginx:1" } ] }
        ---
        apiVersion: v1
        kind: ConfigMap
        metadata: { name: cfg, labels: { app: web } }
        data: { a: "1" }
        """

    @Test(.enabled(if: RequiredTools.run(whenPresent: KubeEmulator.hasKubectl), "kubectl is not installed: SKIPPED"), arguments: [27, 30, 33])
    func kubectlAppliesDiffsWaitsAndDeletes(minor: Int) throws {
        let k = try KubeEmulator(minor: minor, namespace: "ml")
        let dir = TemporaryDirectory()
        let file = dir.write("app.yaml", Self.manifests)

        let apply = try k.kubectl(["apply", "--server-side", "-f", file])
        #expect(apply.status == 0, "\(apply.stderr)")
        #expect(apply.stdout.contains("deployment.apps/web serverside-applied"))
        #expect(apply.stdout.contains("configmap/cfg serverside-applied"))

        let rollout = try k.kubectl(["rollout", "status", "deploy/web", "--timeout=30s"])
        #expect(rollout.status == 0, "\(rollout.stderr)")
        #expect(rollout.stdout.contains("successfully rolled out"))
        let waited = try k.kubectl(["wait", "--for=condition=Available", "deploy/web", "--timeout=30s"])
        #expect(waited.status == 0 && waited.stdout.contains("condition met"), "\(waited.stdout)\(waited.stderr)")

        // A field the manager stops applying is removed (it owned it alone).
        let labelled = dir.write("labelled.yaml", Self.manifests.replacingOccurrences(of: "metadata: { name: cfg, labels: { app: web } }",
                                                                                       with: "metadata: { name: cfg, labels: { app: web, tier: x } }"))
        #expect(try k.kubectl(["apply", "--server-side", "-f", labelled]).status == 0)
        #expect(try k.kubectl(["get", "configmap", "cfg", "-o", "jsonpath={.metadata.labels.tier}"]).stdout == "x")

        let got = try k.kubectl(["get", "deployment", "web", "-o", "yaml", "--show-managed-fields"])
        #expect(got.stdout.contains("namespace: ml"))
        #expect(got.stdout.contains("generation: 1"))
        #expect(got.stdout.contains("manager: kubectl"))
        let rv = got.stdout.split(separator: "\n").first { $0.contains("resourceVersion:") }

        // A no-op apply changes nothing, not even the resourceVersion.
        _ = try k.kubectl(["apply", "--server-side", "-f", file])
        #expect(try k.kubectl(["get", "configmap", "cfg", "-o", "jsonpath={.metadata.labels}"]).stdout == "{\"app\":\"web\"}",
                "the label kubectl stopped applying is gone")
        let again = try k.kubectl(["get", "deployment", "web", "-o", "yaml"])
        #expect(again.stdout.split(separator: "\n").first { $0.contains("resourceVersion:") } == rv)

        // diff --server-side shows the change and exits 1; labels do not bump generation, spec does.
        let changed = dir.write("changed.yaml", Self.manifests.replacingOccurrences(of: "replicas: 2", with: "replicas: 3"))
        let diff = try k.kubectl(["diff", "--server-side", "-f", changed])
        #expect(diff.status == 1)
        #expect(diff.stdout.contains("-  replicas: 2") && diff.stdout.contains("+  replicas: 3"))

        // Another manager changing a field kubectl owns is a conflict, unless forced.
        let conflict = try k.kubectl(["apply", "--server-side", "--field-manager=other", "-f", changed])
        #expect(conflict.status != 0)
        #expect(conflict.stderr.contains("conflict"))
        let forced = try k.kubectl(["apply", "--server-side", "--field-manager=other", "--force-conflicts", "-f", changed])
        #expect(forced.status == 0, "\(forced.stderr)")
        #expect(try k.kubectl(["get", "deploy", "web", "-o", "jsonpath={.metadata.generation}"]).stdout == "2")

        let listed = try k.kubectl(["get", "configmaps", "-l", "app=web", "-o", "name"])
        #expect(listed.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "configmap/cfg")

        let deleted = try k.kubectl(["delete", "-f", file])
        #expect(deleted.status == 0, "\(deleted.stderr)")
        let gone = try k.kubectl(["get", "deploy", "web"])
        #expect(gone.status != 0)
        #expect(gone.stderr.contains("not found"))
    }

    /// As on a real cluster: an object in a namespace that does not exist is refused (404
    /// `namespaces "x" not found`, dry runs too), and deleting a namespace deletes what is in it.
    @Test(.enabled(if: RequiredTools.run(whenPresent: KubeEmulator.hasKubectl), "kubectl is not installed: SKIPPED"), arguments: [27, 30, 33])
    func namespacesMustExistAndTheirDeletionCascades(minor: Int) throws {
        let k = try KubeEmulator(minor: minor, namespace: "ml")
        let dir = TemporaryDirectory()
        let file = dir.write("cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: { name: cfg, namespace: team }\ndata: { a: \"1\" }\n")
        for extra in [["--dry-run=server"], []] {
            let refused = try k.kubectl(["apply", "--server-side", "-f", file] + extra)
            #expect(refused.status != 0)
            #expect(refused.stderr.contains("namespaces \"team\" not found"), "\(refused.stderr)")
        }
        #expect(try k.kubectl(["apply", "--server-side", "-f", dir.write("ns.yaml", "apiVersion: v1\nkind: Namespace\nmetadata: { name: team }\n")]).status == 0)
        let applied = try k.kubectl(["apply", "--server-side", "-f", file])
        #expect(applied.status == 0, "\(applied.stdout) \(applied.stderr)")
        let deleted = try k.kubectl(["delete", "namespace", "team"])
        #expect(deleted.status == 0, "\(deleted.stderr)")
        let gone = try k.kubectl(["get", "configmap", "cfg", "-n", "team"])
        #expect(gone.status != 0 && gone.stderr.contains("not found"), "\(gone.stdout)\(gone.stderr)")
        #expect(try k.kubectl(["get", "namespace", "default", "-o", "name"]).stdout.contains("namespace/default"))
    }

    /// `containers` merge by `name`, as the published schema says (x-kubernetes-list-map-keys):
    /// a second manager adds a sidecar without a conflict, the first keeps it when it applies
    /// again, and changing the first's container is a conflict on that field alone.
    /// Set-based selectors select.
    @Test(.enabled(if: RequiredTools.run(whenPresent: KubeEmulator.hasKubectl), "kubectl is not installed: SKIPPED"), arguments: [27, 30, 33])
    func listsMergeByKeyAndSetBasedSelectorsSelect(minor: Int) throws {
        let k = try KubeEmulator(minor: minor, namespace: "ml")
        let dir = TemporaryDirectory()
        let app = dir.write("app.yaml", Self.manifests)
        #expect(try k.kubectl(["apply", "--server-side", "-f", app]).status == 0)
        let sidecar = dir.write("sidecar.yaml", "apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: web }\n"
                                + "spec: { template: { spec: { containers: [ { name: mesh, image: \"envoy:1\" } ] } } }\n")
        let added = try k.kubectl(["apply", "--server-side", "--field-manager=mesh", "-f", sidecar])
        #expect(added.status == 0, "\(added.stderr)")
        func containers() throws -> String { try k.kubectl(["get", "deploy", "web", "-o", "jsonpath={.spec.template.spec.containers[*].name}"]).stdout }
        #expect(try containers() == "c mesh")
        #expect(try k.kubectl(["apply", "--server-side", "-f", app]).status == 0)
        #expect(try containers() == "c mesh", "the first manager's apply keeps the sidecar it does not own")
        let takeover = dir.write("takeover.yaml", "apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: web }\n"
                                 + "spec: { template: { spec: { containers: [ { name: c, image: \"nginx:9\" } ] } } }\n")
        let conflict = try k.kubectl(["apply", "--server-side", "--field-manager=mesh", "-f", takeover])
        #expect(conflict.status != 0 && conflict.stderr.contains("conflict") && conflict.stderr.contains("image"), "\(conflict.stderr)")
        let managed = try k.kubectl(["get", "deploy", "web", "-o", "yaml", "--show-managed-fields"]).stdout
        #expect(managed.contains("k:{\"name\":\"mesh\"}") && managed.contains("k:{\"name\":\"c\"}"), "\(managed)")

        let selected = try k.kubectl(["get", "deploy,configmap", "-l", "app in (web,api),app notin (db)", "-o", "name"]).stdout
        #expect(selected.contains("deployment.apps/web") && selected.contains("configmap/cfg"), "\(selected)")
        #expect(try k.kubectl(["get", "configmaps", "-l", "app notin (web)", "-o", "name"]).stdout.isEmpty)
    }

    /// `kubectl scale` (the scale subresource) and `kubectl patch --type=merge` are Update
    /// operations that take the fields they change: an apply that sets another replica count
    /// then conflicts with them, as an HPA owning `spec.replicas` makes it conflict.
    @Test(.enabled(if: RequiredTools.run(whenPresent: KubeEmulator.hasKubectl), "kubectl is not installed: SKIPPED"), arguments: [27, 30, 33])
    func scaleAndMergePatchOwnWhatTheyChange(minor: Int) throws {
        let k = try KubeEmulator(minor: minor, namespace: "ml")
        let dir = TemporaryDirectory()
        let app = dir.write("app.yaml", Self.manifests)
        #expect(try k.kubectl(["apply", "--server-side", "-f", app]).status == 0)
        let scaled = try k.kubectl(["scale", "deploy/web", "--replicas=5"])
        #expect(scaled.status == 0 && scaled.stdout.contains("scaled"), "\(scaled.stderr)")
        #expect(try k.kubectl(["get", "deploy", "web", "-o", "jsonpath={.spec.replicas} {.metadata.generation}"]).stdout == "5 2")
        let conflict = try k.kubectl(["apply", "--server-side", "-f", app])
        #expect(conflict.status != 0 && conflict.stderr.contains("conflict with \"kubectl\" using apps/v1: .spec.replicas"), "\(conflict.stderr)")
        let patched = try k.kubectl(["patch", "configmap", "cfg", "--type=merge", "-p", "{\"data\":{\"b\":\"2\"}}"])
        #expect(patched.status == 0, "\(patched.stderr)")
        #expect(try k.kubectl(["get", "configmap", "cfg", "-o", "jsonpath={.data.a}{.data.b}"]).stdout == "12")
        let managed = try k.kubectl(["get", "configmap", "cfg", "-o", "yaml", "--show-managed-fields"]).stdout
        #expect(managed.contains("manager: kubectl-patch") && managed.contains("operation: Update"), "\(managed)")
    }

    /// Invalid objects are refused as the API server refuses them (422, `Kind "name" is invalid:
    /// field: detail`): a name that is not an RFC 1123 subdomain, a Deployment without a selector,
    /// and a change to its immutable selector. Valid ones get the API's defaults.
    @Test(.enabled(if: RequiredTools.run(whenPresent: KubeEmulator.hasKubectl), "kubectl is not installed: SKIPPED"), arguments: [27, 30, 33])
    func invalidObjectsAreRefusedAndDefaultsFilledIn(minor: Int) throws {
        let k = try KubeEmulator(minor: minor, namespace: "ml")
        let dir = TemporaryDirectory()
        let badName = try k.kubectl(["apply", "--server-side", "-f", dir.write("bad.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: { name: Bad_Name }\n")])
        #expect(badName.status != 0 && badName.stderr.contains("ConfigMap \"Bad_Name\" is invalid: metadata.name: Invalid value: \"Bad_Name\": a lowercase RFC 1123 subdomain"),
                "\(badName.stderr)")
        let noSelector = try k.kubectl(["apply", "--server-side", "-f", dir.write("nosel.yaml", Self.manifests.replacingOccurrences(of: "  selector: { matchLabels: { app: web } }\n", with: ""))])
        #expect(noSelector.status != 0 && noSelector.stderr.contains("The Deployment \"web\" is invalid: spec.selector: Required value"), "\(noSelector.stderr)")
        #expect(try k.kubectl(["apply", "--server-side", "-f", dir.write("app.yaml", Self.manifests)]).status == 0)
        // The API's defaults are filled in, owned by no manager.
        let defaults = try k.kubectl(["get", "deploy", "web", "-o", "jsonpath={.spec.strategy.type} {.spec.revisionHistoryLimit} {.spec.progressDeadlineSeconds} "
                                      + "{.spec.template.spec.containers[0].imagePullPolicy} {.spec.template.spec.restartPolicy}"]).stdout
        #expect(defaults == "RollingUpdate 10 600 IfNotPresent Always", "\(defaults)")
        let moved = Self.manifests.replacingOccurrences(of: "app: web } }\n  template:\n    metadata: { labels: { app: web } }",
                                                        with: "app: web2 } }\n  template:\n    metadata: { labels: { app: web2 } }")
        // A field the published schema does not declare: server-side apply cannot type the patch.
        let unknown = try k.kubectl(["apply", "--server-side", "-f", dir.write("unknown.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: { name: cfg }\nfoo: bar\n")])
        #expect(unknown.status != 0 && unknown.stderr.contains("failed to create typed patch object (ml/cfg; v1, Kind=ConfigMap): .foo: field not declared in schema"),
                "\(unknown.stderr)")
        let explained = try k.kubectl(["explain", "deployment.spec.replicas"])
        #expect(explained.stdout.contains("replicas") && explained.stdout.contains("<integer>"), "the published schemas are served: \(explained.stdout)\(explained.stderr)")
        let immutable = try k.kubectl(["apply", "--server-side", "-f", dir.write("moved.yaml", moved)])
        #expect(immutable.status != 0 && immutable.stderr.contains("spec.selector: Invalid value") && immutable.stderr.contains("field is immutable"), "\(immutable.stderr)")
    }

    /// Lists come in pages (`limit`, then `continue`), as kubectl's `--chunk-size` reads them
    /// and as Sluice reads the live objects of a kind before a deploy.
    @Test(.enabled(if: RequiredTools.run(whenPresent: KubeEmulator.hasKubectl), "kubectl is not installed: SKIPPED"), arguments: [27, 30, 33])
    func listsComeInPagesThatKubectlFollows(minor: Int) throws {
        let k = try KubeEmulator(minor: minor, namespace: "ml")
        let dir = TemporaryDirectory()
        let maps = (1...7).map { "apiVersion: v1\nkind: ConfigMap\nmetadata: { name: page-\($0) }\ndata: { n: \"\($0)\" }\n" }
        #expect(try k.kubectl(["apply", "--server-side", "-f", dir.write("maps.yaml", maps.joined(separator: "---\n"))]).status == 0)
        let paged = try k.kubectl(["get", "configmaps", "--chunk-size=3", "-o", "name", "-v=6"])
        #expect(paged.status == 0, "\(paged.stderr)")
        #expect(paged.stdout.split(separator: "\n") == (1...7).map { "configmap/page-\($0)" }.sorted().map { Substring($0) }, "\(paged.stdout)")
        let requests = paged.stderr.split(separator: "\n").filter { $0.contains("/api/v1/namespaces/ml/configmaps?") }
        #expect(requests.count == 3 && requests.dropFirst().allSatisfy { $0.contains("continue=") }, "three pages: \(requests)")
        let bad = try k.kubectl(["get", "--raw", "/api/v1/namespaces/ml/configmaps?limit=2&continue=bm90anNvbg=="])
        #expect(bad.status != 0 && bad.stderr.contains("continue key is not valid"), "\(bad.stderr)")
    }

    @Test(.enabled(if: RequiredTools.run(whenPresent: KubeEmulator.hasKubectl), "kubectl is not installed: SKIPPED"))
    func aFailingRolloutIsReportedByKubectl() throws {
        let k = try KubeEmulator(namespace: "ml")
        let dir = TemporaryDirectory()
        let file = dir.write("app.yaml", Self.manifests.replacingOccurrences(of: "nginx:1", with: "nginx:fail-rollout"))
        #expect(try k.kubectl(["apply", "--server-side", "-f", file]).status == 0)
        let rollout = try k.kubectl(["rollout", "status", "deploy/web", "--timeout=30s"])
        #expect(rollout.status != 0)
        #expect(rollout.stderr.contains("exceeded its progress deadline"))
    }
}

/// The controller's own manifests (`manifests/`) apply cleanly with the real kubectl.
@Suite struct ControllerManifestTests {
    @Test(.enabled(if: RequiredTools.run(whenPresent: KubeEmulator.hasKubectl), "kubectl is not installed: SKIPPED"))
    func theControllersManifestsApply() throws {
        let k = try KubeEmulator()
        let folder = RepositoryLayout.root() + "/manifests"
        // The namespaces first (as `kubectl apply -f` on a folder does, in file-name order).
        let ns = try k.kubectl(["apply", "--server-side", "-f", folder + "/00-namespace.yaml"])
        #expect(ns.status == 0, "\(ns.stderr)")
        let all = try k.kubectl(["apply", "--server-side", "-f", folder])
        #expect(all.status == 0, "\(all.stdout)\n\(all.stderr)")
        for line in ["namespace/sluice-system serverside-applied", "serviceaccount/sluice serverside-applied",
                     "role.rbac.authorization.k8s.io/sluice-leader-election serverside-applied",
                     "clusterrole.rbac.authorization.k8s.io/sluice-deployer serverside-applied",
                     "configmap/sluice-config serverside-applied", "persistentvolumeclaim/sluice-state serverside-applied",
                     "deployment.apps/sluice serverside-applied", "service/sluice serverside-applied"] {
            #expect(all.stdout.contains(line), "\(line)\n\(all.stdout)")
        }
        let rollout = try k.kubectl(["-n", "sluice-system", "rollout", "status", "deploy/sluice", "--timeout=30s"])
        #expect(rollout.status == 0, "\(rollout.stderr)")
        // The example configuration inside the ConfigMap is a valid controller configuration.
        let config = try k.kubectl(["-n", "sluice-system", "get", "configmap", "sluice-config", "-o", "jsonpath={.data.controller\\.yaml}"])
        #expect(config.stdout.contains("repositories:"))
        let dir = TemporaryDirectory()
        let file = dir.write("controller.yaml", config.stdout.replacingOccurrences(of: "webhook-secret-env: IRIS_WEBHOOK_SECRET", with: ""))
        let check = try ProcessRunner.run(RepositoryLayout.sluiceBinary, ["watch", "--config", file, "--state", dir.path + "/state", "--check"],
                                          environment: ["SLUICE_API_TOKEN": "from-the-secret"])
        #expect(check.status == 0, "\(check.stderr)")
        #expect(check.stdout.contains("valid (1 repository)"))
        withExtendedLifetime(dir) {}
    }

    /// The high-availability shape (`manifests/high-availability/`): two replicas rolling one at a
    /// time, no volume, the database and the bucket from Secrets, a configuration with a Lease
    /// and `store:`.
    @Test(.enabled(if: RequiredTools.run(whenPresent: KubeEmulator.hasKubectl), "kubectl is not installed: SKIPPED"))
    func theHighAvailabilityManifestsApply() throws {
        let k = try KubeEmulator()
        let root = RepositoryLayout.root() + "/manifests"
        #expect(try k.kubectl(["apply", "--server-side", "-f", root + "/00-namespace.yaml", "-f", root + "/10-rbac.yaml"]).status == 0)
        for (name, key, value) in [("sluice-database", "SLUICE_DATABASE_URL", "postgres://sluice:pw@db:5432/sluice"),
                                   ("sluice-credentials", "SLUICE_API_TOKEN", "token")] {
            // Written by kubectl, applied server-side (as `create secret … --dry-run=client -o yaml | kubectl apply -f -`).
            let manifest = try k.kubectl(["-n", "sluice-system", "create", "secret", "generic", name, "--from-literal=\(key)=\(value)",
                                          "--dry-run=client", "-o", "yaml"])
            let secret = try k.kubectl(["apply", "--server-side", "-f", "-"], input: manifest.stdout)
            #expect(secret.status == 0, "\(secret.stderr)")
        }
        let all = try k.kubectl(["apply", "--server-side", "-f", root + "/high-availability"])
        #expect(all.status == 0, "\(all.stdout)\n\(all.stderr)")
        #expect(all.stdout.contains("configmap/sluice-config serverside-applied") && all.stdout.contains("deployment.apps/sluice serverside-applied"))
        let rollout = try k.kubectl(["-n", "sluice-system", "rollout", "status", "deploy/sluice", "--timeout=30s"])
        #expect(rollout.status == 0, "\(rollout.stderr)")
        let shape = try k.kubectl(["-n", "sluice-system", "get", "deploy", "sluice", "-o",
                                   "jsonpath={.spec.replicas} {.spec.strategy.type} {.spec.template.spec.volumes[?(@.name=='state')].emptyDir.sizeLimit}"])
        #expect(shape.stdout == "2 RollingUpdate 20Gi", "\(shape.stdout)\(shape.stderr)")
        let config = try k.kubectl(["-n", "sluice-system", "get", "configmap", "sluice-config", "-o", "jsonpath={.data.controller\\.yaml}"])
        let dir = TemporaryDirectory()
        let file = dir.write("controller.yaml", config.stdout.replacingOccurrences(of: "webhook-secret-env: IRIS_WEBHOOK_SECRET", with: ""))
        let check = try ProcessRunner.run(RepositoryLayout.sluiceBinary, ["watch", "--config", file, "--state", dir.path + "/state", "--check"],
                                          environment: ["SLUICE_API_TOKEN": "token", "SLUICE_DATABASE_URL": "postgres://sluice:pw@db:5432/sluice"])
        #expect(check.status == 0, "\(check.stderr)")
        #expect(check.stdout.contains("valid (1 repository)"))
    }
}

extension KubeEmulatorFidelityTests {
    /// What the Kubernetes runner relies on, done by the real kubectl against the emulator's
    /// kubelet: a Job makes a labelled pod; `logs -f` follows it to the end, `--since-time`
    /// starts later, `--timestamps` prefixes RFC 3339 times; `wait` sees Complete; deleting with
    /// `--cascade=orphan` keeps the pod (its owner reference cleared), `--cascade=foreground`
    /// deletes it and stops its process; a Secret key reaches a container by `secretKeyRef`.
    @Test(.enabled(if: RequiredTools.run(whenPresent: KubeEmulator.hasKubectl), "kubectl is not installed: SKIPPED"), arguments: [27, 30, 33])
    func kubectlRunsJobsFollowsLogsAndCascades(minor: Int) throws {
        let k = try KubeEmulator(minor: minor, namespace: "ml", images: ["busybox": ""])
        let dir = TemporaryDirectory()
        func job(_ name: String, _ script: String) -> String {
            dir.write("\(name).yaml", """
                apiVersion: batch/v1
                kind: Job
                metadata: { name: \(name) }
                spec:
                  backoffLimit: 0
                  template:
                    spec:
                      restartPolicy: Never
                      containers:
                        - name: main
                          image: busybox
                          command: [sh, -c, '\(script)']
                          env: [ { name: WORD, valueFrom: { secretKeyRef: { name: words, key: word } } } ]
                """)
        }
        let secret = dir.write("secret.yaml", "apiVersion: v1\nkind: Secret\nmetadata: { name: words }\ndata: { word: aGVsbG8= }\n")
        #expect(try k.kubectl(["apply", "--server-side", "-f", secret]).status == 0)
        let quick = job("quick", "echo one; echo $WORD; while [ ! -f \(dir.path)/go ]; do sleep 0.05; done; echo three")
        #expect(try k.kubectl(["apply", "--server-side", "-f", quick]).status == 0)
        let ready = try k.kubectl(["wait", "--for=condition=Ready", "pod", "-l", "job-name=quick", "--timeout=20s"])
        #expect(ready.status == 0, "\(ready.stdout)\(ready.stderr)")
        // `kubectl logs -f` streams while the container runs and returns when it ends.
        let out = dir.path + "/followed.txt"
        let follow = try BackgroundProcess("sh", ["-c", "exec kubectl --kubeconfig \(k.kubeconfig) --cache-dir \(dir.path)/cache logs -f job/quick --timestamps > \(out)"])
        try waitUntil("the first lines, followed") { ((try? String(contentsOfFile: out, encoding: .utf8)) ?? "").contains("hello") }
        FileManager.default.createFile(atPath: dir.path + "/go", contents: Data())
        try waitUntil("kubectl logs -f to return") { var status: Int32 = 0; return waitpid(follow.pid, &status, WNOHANG) == follow.pid }
        let lines = try String(contentsOfFile: out, encoding: .utf8).split(separator: "\n")
        #expect(lines.map { $0.split(separator: " ", maxSplits: 1).last ?? "" } == ["one", "hello", "three"], "\(lines)")
        let stamp = try #require(lines.last?.split(separator: " ").first)
        #expect(stamp.hasSuffix("Z") && stamp.count >= 20, "RFC 3339 times: \(stamp)")
        // kubectl sends --since-time in whole seconds (as the API server passes it on to the
        // kubelet): the lines of that second and later, which is why Sluice skips repeats itself.
        let later = try k.kubectl(["logs", "job/quick", "--since-time=\(stamp)"])
        #expect(later.stdout.hasSuffix("three\n") && "one\nhello\nthree\n".hasSuffix(later.stdout), "\(later.stdout)\(later.stderr)")
        let none = try k.kubectl(["logs", "job/quick", "--since-time=2099-01-01T00:00:00Z"])
        #expect(none.status == 0 && none.stdout.isEmpty, "\(none.stdout)\(none.stderr)")
        let waited = try k.kubectl(["wait", "--for=condition=complete", "job/quick", "--timeout=20s"])
        #expect(waited.status == 0 && waited.stdout.contains("condition met"), "\(waited.stdout)\(waited.stderr)")
        let pods = try k.kubectl(["get", "pods", "-l", "job-name=quick", "-o", "jsonpath={.items[0].status.phase}"])
        #expect(pods.stdout == "Succeeded", "\(pods.stdout)\(pods.stderr)")

        // Orphan: the Job goes, its pod stays without the owner reference.
        #expect(try k.kubectl(["delete", "job", "quick", "--cascade=orphan"]).status == 0)
        let orphan = try k.kubectl(["get", "pods", "-l", "job-name=quick", "-o", "jsonpath={.items[0].metadata.ownerReferences}"])
        #expect(orphan.status == 0 && orphan.stdout.isEmpty, "\(orphan.stdout)\(orphan.stderr)")

        // Foreground: the pod and its process go with the Job.
        let pidFile = dir.path + "/pid"
        let slow = job("slow", "echo $$ > \(pidFile); sleep 60")
        #expect(try k.kubectl(["apply", "--server-side", "-f", slow]).status == 0)
        try waitUntil("the slow pod's process") { FileManager.default.fileExists(atPath: pidFile) && ((try? String(contentsOfFile: pidFile, encoding: .utf8)) ?? "").hasSuffix("\n") }
        let pid = try #require(Int32(try String(contentsOfFile: pidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(try k.kubectl(["delete", "job", "slow", "--cascade=foreground"]).status == 0)
        #expect(try k.kubectl(["get", "pods", "-l", "job-name=slow", "-o", "name"]).stdout.isEmpty)
        try waitUntil("the deleted pod's process to end", timeout: 10) { kill(pid, 0) != 0 }
    }
}

extension KubeEmulatorFidelityTests {
    /// What a preview puts around itself — a Namespace, a ResourceQuota, a LimitRange and an
    /// egress NetworkPolicy, the fields `PreviewGuards` writes — is applied by the real kubectl
    /// against the published schemas, read back, and deleted with its namespace (everything in it goes too).
    @Test(.enabled(if: RequiredTools.run(whenPresent: KubeEmulator.hasKubectl), "kubectl is not installed: SKIPPED"), arguments: [27, 30, 33])
    func previewGuardsApplyReadBackAndGoWithTheirNamespace(minor: Int) throws {
        let k = try KubeEmulator(minor: minor)
        let dir = TemporaryDirectory()
        let guards = """
            apiVersion: v1
            kind: Namespace
            metadata: { name: sluice-preview-demo-3, labels: { sluice.dev/preview: "3" } }
            ---
            apiVersion: v1
            kind: ResourceQuota
            metadata: { name: sluice-preview, namespace: sluice-preview-demo-3 }
            spec: { hard: { requests.cpu: "2", limits.memory: "8Gi", pods: "20" } }
            ---
            apiVersion: v1
            kind: LimitRange
            metadata: { name: sluice-preview, namespace: sluice-preview-demo-3 }
            spec: { limits: [ { type: Container, defaultRequest: { cpu: "100m", memory: "128Mi" }, default: { cpu: "500m", memory: "512Mi" } } ] }
            ---
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata: { name: sluice-preview-egress, namespace: sluice-preview-demo-3 }
            spec:
              podSelector: {}
              policyTypes: [Egress]
              egress:
                - to: [ { podSelector: {} } ]
                - ports: [ { protocol: UDP, port: 53 }, { protocol: TCP, port: 53 } ]
                - to: [ { ipBlock: { cidr: 10.20.0.0/16 } } ]
            """
        let applied = try k.kubectl(["apply", "--server-side", "--field-manager=sluice", "-f", dir.write("guards.yaml", guards)])
        #expect(applied.status == 0, "\(applied.stdout) \(applied.stderr)")
        #expect(applied.stdout.contains("resourcequota/sluice-preview serverside-applied") && applied.stdout.contains("networkpolicy.networking.k8s.io/sluice-preview-egress serverside-applied"),
                "\(applied.stdout)")
        let read = try k.kubectl(["-n", "sluice-preview-demo-3", "get", "quota,limits,netpol", "-o", "name"]).stdout
        #expect(read.split(separator: "\n").sorted() == ["limitrange/sluice-preview", "networkpolicy.networking.k8s.io/sluice-preview-egress", "resourcequota/sluice-preview"],
                "\(read)")
        let cidr = try k.kubectl(["-n", "sluice-preview-demo-3", "get", "netpol", "sluice-preview-egress", "-o", "jsonpath={.spec.egress[2].to[0].ipBlock.cidr}"]).stdout
        #expect(cidr == "10.20.0.0/16")
        // A field the published NetworkPolicy schema does not declare is refused, as by a real server.
        let typo = try k.kubectl(["apply", "--server-side", "-f", dir.write("typo.yaml", """
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata: { name: x, namespace: sluice-preview-demo-3 }
            spec: { podSelector: {}, egres: [] }
            """)])
        #expect(typo.status != 0 && typo.stderr.contains(".spec.egres: field not declared in schema"), "\(typo.stderr)")
        #expect(try k.kubectl(["delete", "namespace", "sluice-preview-demo-3"]).status == 0)
        let gone = try k.kubectl(["-n", "sluice-preview-demo-3", "get", "quota,limits,netpol", "-o", "name"])
        #expect(gone.stdout.isEmpty, "\(gone.stdout)")
    }
}
