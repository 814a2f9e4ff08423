import Foundation
import Testing
import SluiceTestSupport

/// Merge-request previews under `sluice watch`, on the emulator, with the forge fake: a merge
/// request's candidate runs in a namespace of its own (quota, limit range, egress policy), is
/// checked there, and the comment says so; a push replaces it; beyond `max` the oldest goes;
/// closing the merge request deletes everything; so does the ttl.
@Suite struct PreviewTests {
    let sluice = RepositoryLayout.sluiceBinary

    static let manifests = """
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: server
          namespace: ml-staging
          annotations: { sluice.dev/commit: "{{commit_short}}", sluice.dev/preview: "{{preview.number}}" }
        spec:
          replicas: 1
          selector: { matchLabels: { app: server } }
          template:
            metadata: { labels: { app: server }, annotations: { sluice.dev/version: "{{model.version}}" } }
            spec: { containers: [ { name: c, image: "registry.example.com/server:{{image.tag}}" } ] }
        ---
        apiVersion: v1
        kind: Service
        metadata: { name: server }
        spec: { selector: { app: server }, ports: [ { port: 80 } ] }
        """

    /// The staging check: it sees the preview's namespace and address, as a smoke test against it would.
    static let smoke = #"echo "smoke against $SLUICE_ENV_URL in $SLUICE_NAMESPACE""#

    static func spec(ttl: String = "72h", max: Int = 3) -> String {
        GateFlowTests.spec + """

            environments:
              - name: staging
                target: kubernetes
                manifests: manifests/
                namespace: ml-staging
                timeout: 30s
                values: { url: "http://server.ml-staging.svc" }
                verify:
                  - { name: smoke, run: '\(smoke)' }
              - name: production
                manifests: manifests/
            preview:
              environment: staging
              ttl: \(ttl)
              max: \(max)
              url: "http://pr-{{number}}.preview.example.com"
              egress: [10.20.0.0/16]
            """
    }

    func controller(_ repo: TestRepository, _ fake: ForgeFake, _ k: KubeEmulator?, in dir: TemporaryDirectory) throws -> BackgroundProcess {
        let config = dir.write("controller.yaml", """
            listen: 127.0.0.1:0
            interval: 1s
            repositories:
              - name: iris
                url: \(repo.path)
                forge: { kind: github, project: acme/iris, api: \(fake.api("github")), token-env: SLUICE_TEST_FORGE_TOKEN }

            """)
        return try BackgroundProcess(sluice, ["watch", "--config", config, "--state", dir.path + "/state"], readyPrefix: "sluice: listening on 127.0.0.1:",
                                     environment: ["SLUICE_TEST_FORGE_TOKEN": "forge-token", "KUBECONFIG": k?.kubeconfig ?? "/nonexistent"],
                                     stderrFile: dir.path + "/controller.log")
    }

    static func previewComment(_ fake: ForgeFake, _ number: Int) throws -> String {
        try fake.comments("github", mergeRequest: number).compactMap { $0["body"] as? String }.first { $0.contains("<!-- sluice-preview -->") } ?? ""
    }

    @Test func aMergeRequestsCandidateIsPreviewedReplacedEvictedAndDeleted() throws {
        let k = try KubeEmulator(namespace: "ml-staging")
        let fake = try ForgeFake()
        let repo = try TestRepository()
        try repo.commit("first model", files: ["sluice.yaml": Self.spec(ttl: "40s"), "policies/p.yaml": GateFlowTests.policy, "data/d.csv": GateFlowTests.data(0),
                                               "schemas/d.yaml": "columns:\n  x: { type: integer }\n  kind: { type: string }\n",
                                               "quality.json": GateFlowTests.quality(0.9), "manifests/app.yaml": Self.manifests])
        func pushMergeRequest(_ number: Int, accuracy: Double) throws -> String {
            // Committed on a detached HEAD: the production branch never moves (the controller polls it meanwhile).
            try repo.git(["checkout", "-q", "--detach", "main"])
            let head = try repo.commit("merge request \(number) at \(accuracy)", files: ["quality.json": GateFlowTests.quality(accuracy)])
            try repo.git(["update-ref", "refs/pull/\(number)/head", head])
            try repo.git(["checkout", "-q", "main"])
            return head
        }
        func namespace(_ n: Int) throws -> String {
            try k.kubectl(["-n", "sluice-preview-iris-\(n)", "get", "deploy,svc,quota,limits,netpol", "-o", "name"]).stdout
        }
        func annotation(_ n: Int, _ key: String) throws -> String {
            try k.kubectl(["-n", "sluice-preview-iris-\(n)", "get", "deploy", "server", "-o", "jsonpath={.metadata.annotations.sluice\\.dev/\(key)}"]).stdout
        }
        let dir = TemporaryDirectory(prefix: "sluice-controller")
        let watch = try controller(repo, fake, k, in: dir)
        let state = dir.path + "/state"
        try waitUntil("staging runs version 1") {
            try k.kubectl(["-n", "ml-staging", "get", "deploy", "server", "-o", "jsonpath={.spec.template.metadata.annotations.sluice\\.dev/version}"]).stdout == "1"
        }

        // Merge request 7: its candidate passes the gate and runs in its own namespace, with its guards, and its check passes there.
        let first = try pushMergeRequest(7, accuracy: 0.95)
        try waitUntil("merge request 7's preview", timeout: 60) { try Self.previewComment(fake, 7).contains("ready") }
        let objects = try namespace(7)
        #expect(objects.split(separator: "\n").sorted() == ["deployment.apps/server", "limitrange/sluice-preview", "networkpolicy.networking.k8s.io/sluice-preview-egress",
                                                           "resourcequota/sluice-preview", "service/server"], "\(objects)")
        #expect(try annotation(7, "preview") == "7" && annotation(7, "commit") == String(first.prefix(12)))
        let comment = try Self.previewComment(fake, 7)
        #expect(comment.contains("## Sluice preview: ✅ ready") && comment.contains("runs in namespace `sluice-preview-iris-7` with `staging`'s settings")
                && comment.contains("It answers at http://pr-7.preview.example.com.") && comment.contains("| smoke | ✅ passed |")
                && comment.contains("smoke against http://pr-7.preview.example.com in sluice-preview-iris-7"), "\(comment)")
        // The repository's page and the API list it.
        let base = "http://127.0.0.1:\(watch.readyLine.split(separator: ",")[0])"
        let page = try ProcessRunner.run("curl", ["-s", base + "/repositories/iris"]).stdout
        #expect(page.contains("<h2>Previews</h2>") && page.contains("namespace sluice-preview-iris-7") && page.contains("smoke passed"), "\(page)")
        let listed = try ProcessRunner.run("curl", ["-s", base + "/api/repositories/iris/previews"]).stdout
        let previews = try #require((try JSONSerialization.jsonObject(with: Data(listed.utf8)) as? [String: Any])?["previews"] as? [[String: Any]], "\(listed)")
        #expect(previews.count == 1 && previews[0]["number"] as? Int == 7 && previews[0]["state"] as? String == "ready"
                && previews[0]["place"] as? String == "sluice-preview-iris-7" && previews[0]["commit"] as? String == first, "\(listed)")
        // Staging and production are not touched: staging still runs version 1, nothing new was registered.
        let environments = try ProcessRunner.run(sluice, ["environments", "--repo", repo.path, "--state", state]).stdout
        #expect(!environments.contains("pr-7") && !environments.contains("version 2"), "\(environments)")

        // A push replaces it in place.
        let second = try pushMergeRequest(7, accuracy: 0.96)
        try waitUntil("the preview follows the push") { try annotation(7, "commit") == String(second.prefix(12)) }

        // Three more merge requests with max 3: at the fourth, the oldest preview (7) goes, and its merge request is told.
        for n in [8, 9] {
            _ = try pushMergeRequest(n, accuracy: 0.95)
            try waitUntil("merge request \(n)'s preview", timeout: 60) { try Self.previewComment(fake, n).contains("ready") }
        }
        #expect(try !namespace(7).isEmpty, "three previews fit")
        _ = try pushMergeRequest(10, accuracy: 0.95)
        try waitUntil("merge request 10's preview", timeout: 60) { try Self.previewComment(fake, 10).contains("ready") }
        #expect(try namespace(7).isEmpty, "the oldest preview was removed")
        #expect(try Self.previewComment(fake, 7).contains("deleted: more than 3 previews ran (preview.max): the oldest goes"))

        // Closing merge request 8 deletes every object Sluice applied there, the namespace last.
        try fake.close("github", mergeRequest: 8)
        try waitUntil("merge request 8's preview is deleted", timeout: 60) { try Self.previewComment(fake, 8).contains("deleted: the merge request was closed or merged") }
        #expect(try namespace(8).isEmpty)
        #expect(try k.kubectl(["get", "namespace", "sluice-preview-iris-8"]).status != 0, "the namespace is gone")

        // Merge requests 9 and 10 get no push for their ttl (40 s): the reconciler deletes their previews.
        for n in [9, 10] {
            try waitUntil("merge request \(n)'s preview outlives its ttl", timeout: 90) { try Self.previewComment(fake, n).contains("deleted: it outlived its ttl") }
            #expect(try k.kubectl(["get", "namespace", "sluice-preview-iris-\(n)"]).status != 0)
        }
        #expect(try k.kubectl(["-n", "ml-staging", "get", "deploy", "server", "-o", "jsonpath={.spec.template.metadata.annotations.sluice\\.dev/version}"]).stdout == "1",
                "staging was never touched")
        withExtendedLifetime(watch) {}
    }
}

extension PreviewTests {
    /// A fork's merge request gets no preview until its head is approved; a controller killed
    /// (`kill -9`) in the middle of a preview's deploy leaves nothing behind: after the restart
    /// the preview is deployed again, and closing the merge requests deletes every namespace.
    @Test func aForksPreviewWaitsForApprovalAndAKilledDeployLeavesNothingBehind() throws {
        let k = try KubeEmulator(namespace: "ml-staging")
        let fake = try ForgeFake()
        try fake.markFork("github", mergeRequest: 5)
        let repo = try ServedRepository()
        try repo.commit("first model", files: ["sluice.yaml": Self.spec(max: 3), "policies/p.yaml": GateFlowTests.policy, "data/d.csv": GateFlowTests.data(0),
                                               "schemas/d.yaml": "columns:\n  x: { type: integer }\n  kind: { type: string }\n",
                                               "quality.json": GateFlowTests.quality(0.9), "manifests/app.yaml": Self.manifests])
        func pushMergeRequest(_ number: Int) throws -> String {
            try repo.work.git(["checkout", "-q", "--detach", "main"])
            let head = try repo.work.commit("merge request \(number)", files: ["quality.json": GateFlowTests.quality(0.95)])
            try repo.work.git(["push", "-q", "-f", repo.bare, "HEAD:refs/pull/\(number)/head"])
            try repo.work.git(["checkout", "-q", "main"])
            return head
        }
        func previewNamespaces() throws -> [String] {
            try k.kubectl(["get", "namespaces", "-o", "name"]).stdout.split(separator: "\n").map(String.init).filter { $0.contains("sluice-preview-") }
        }
        let dir = TemporaryDirectory(prefix: "sluice-controller")
        let config = dir.write("controller.yaml", """
            listen: 127.0.0.1:0
            interval: 1s
            token-env: SLUICE_TEST_API_TOKEN
            repositories:
              - name: iris
                url: \(repo.url)
                forge: { kind: github, project: acme/iris, api: \(fake.api("github")), token-env: SLUICE_TEST_FORGE_TOKEN }

            """)
        func start() throws -> BackgroundProcess {
            try BackgroundProcess(sluice, ["watch", "--config", config, "--state", dir.path + "/state"], readyPrefix: "sluice: listening on 127.0.0.1:",
                                  environment: ["SLUICE_TEST_FORGE_TOKEN": "forge-token", "SLUICE_TEST_API_TOKEN": "api-token", "KUBECONFIG": k.kubeconfig],
                                  stderrFile: dir.path + "/controller.log")
        }
        var watch = try start()
        var base = "http://127.0.0.1:\(watch.readyLine.split(separator: ",")[0])"
        try waitUntil("staging runs version 1") {
            try k.kubectl(["-n", "ml-staging", "get", "deploy", "server", "-o", "jsonpath={.spec.template.metadata.annotations.sluice\\.dev/version}"]).stdout == "1"
        }

        // The fork's merge request waits for approval: no run, so no preview.
        let forked = try pushMergeRequest(5)
        try waitForPolls(base, count: 3)
        #expect(try previewNamespaces().isEmpty && Self.previewComment(fake, 5).isEmpty)
        let approved = try ProcessRunner.run("curl", ["-s", "-X", "POST", "-H", "Authorization: Bearer api-token", "-d",
                                                      "{\"ref\": \"refs/pull/5/head\", \"commit\": \"\(forked)\", \"actor\": \"maintainer\"}",
                                                      base + "/api/repositories/iris/approve"]).stdout
        #expect(approved.contains("\"commit\":\"\(forked)\""), "\(approved)")
        try waitUntil("the approved fork's preview", timeout: 60) { try Self.previewComment(fake, 5).contains("ready") }
        #expect(try previewNamespaces() == ["namespace/sluice-preview-iris-5"])

        // Killed while the preview of merge request 6 is being applied (the API server holds the apply).
        try k.hook("stall")
        _ = try pushMergeRequest(6)
        try waitUntil("the preview's apply to be under way") { (try k.stats()["stalled"] as? Int ?? 0) >= 1 }
        kill(watch.pid, SIGKILL)
        watch.stop()
        try k.hook("release")
        watch = try start()
        base = "http://127.0.0.1:\(watch.readyLine.split(separator: ",")[0])"
        try waitUntil("merge request 6's preview after the restart", timeout: 60) { try Self.previewComment(fake, 6).contains("ready") }
        let objects = try k.kubectl(["-n", "sluice-preview-iris-6", "get", "deploy,svc,quota,limits,netpol", "-o", "name"]).stdout
        #expect(objects.split(separator: "\n").count == 5, "\(objects)")

        for n in [5, 6] { try fake.close("github", mergeRequest: n) }
        try waitUntil("both previews deleted") { try previewNamespaces().isEmpty }
        for n in [5, 6] { #expect(try Self.previewComment(fake, n).contains("deleted: the merge request was closed or merged")) }
        withExtendedLifetime(watch) {}
    }
}

extension PreviewTests {
    /// With a `branch` environment, a preview is the branch `sluice/preview/<number>` (for Argo CD
    /// or Flux to sync), rendered with the preview's facts; a merge request whose ref is gone loses it.
    @Test func aBranchEnvironmentsPreviewIsABranchOfItsOwn() throws {
        let fake = try ForgeFake()
        let repo = try TestRepository()
        let spec = GateFlowTests.spec + """

            environments:
              - { name: staging, manifests: manifests/, values: { url: "http://staging.example.com" } }
              - { name: production, manifests: manifests/, values: { url: "http://example.com" } }
            preview: { environment: staging, url: "http://pr-{{number}}.example.com" }
            """
        try repo.commit("first model", files: ["sluice.yaml": spec, "policies/p.yaml": GateFlowTests.policy, "data/d.csv": GateFlowTests.data(0),
                                               "schemas/d.yaml": "columns:\n  x: { type: integer }\n  kind: { type: string }\n",
                                               "quality.json": GateFlowTests.quality(0.9),
                                               "manifests/config.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: { name: cfg }\ndata: { url: \"{{values.url}}\", pr: \"{{preview.number}}\" }\n"])
        try repo.git(["checkout", "-q", "--detach", "main"])
        let head = try repo.commit("merge request 4", files: ["quality.json": GateFlowTests.quality(0.95)])
        try repo.git(["update-ref", "refs/pull/4/head", head])
        try repo.git(["checkout", "-q", "main"])
        let dir = TemporaryDirectory(prefix: "sluice-controller")
        let watch = try controller(repo, fake, nil, in: dir)
        try waitUntil("merge request 4's preview branch") { try Self.previewComment(fake, 4).contains("ready") }
        let files = try repo.git(["ls-tree", "-r", "--name-only", "sluice/preview/4"]).split(separator: "\n")
        let config = try repo.git(["show", "sluice/preview/4:" + String(try #require(files.first { $0.hasSuffix("configmap-cfg.yaml") }))])
        #expect(config.contains("url: 'http://pr-4.example.com'") && config.contains("pr: '4'"), "\(config)")
        #expect(try Self.previewComment(fake, 4).contains("runs on branch `sluice/preview/4` with `staging`'s settings"))
        let staging = try repo.git(["show", "sluice/env/staging:" + String(try #require(files.first { $0.hasSuffix("configmap-cfg.yaml") }))])
        #expect(staging.contains("pr: ''") && staging.contains("url: 'http://staging.example.com'"), "staging renders without a preview: \(staging)")

        try repo.git(["update-ref", "-d", "refs/pull/4/head"])
        try waitUntil("the preview branch is deleted") { try Self.previewComment(fake, 4).contains("deleted: the merge request's ref is gone") }
        #expect(try repo.git(["for-each-ref", "refs/heads/sluice/preview/"]).isEmpty)
        withExtendedLifetime(watch) {}
    }
}
