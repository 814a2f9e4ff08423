import Foundation
import Testing
import SluiceTestSupport

/// The controller's HTTP actions (re-run, promote, rollback): bearer token, leadership,
/// located refusals; deploy metrics and the run page's manifest diff; the webhook flood guard.
@Suite struct WatchActionTests {
    let sluice = RepositoryLayout.sluiceBinary
    let helper = WatchTests()

    static let spec = """
        version: 1
        stages:
          evaluate:
            run: "if [ -e fail-once ] && [ ! -e $SCRATCH/failed ]; then touch $SCRATCH/failed; exit 3; fi; cp quality.json m.json"
            env: { SCRATCH: "%SCRATCH%" }
            metrics: m.json
        gate: { policy: p.yaml, model: acts }
        deploy: { manifests: manifests/, target: branch, environment: staging, namespace: ml }
        """

    /// curl with the token (or none), a JSON body; answers "<status> <body>".
    func post(_ url: String, token: String?, _ body: String = "") throws -> (status: String, body: String) {
        var args = ["-X", "POST", url, "-w", "\n%{http_code}"]
        if let token { args += ["-H", "Authorization: Bearer \(token)"] }
        if !body.isEmpty { args += ["-H", "Content-Type: application/json", "-d", body] }
        let out = try helper.curl(args).stdout
        let split = out.lastIndex(of: "\n")!
        return (String(out[out.index(after: split)...]), String(out[..<split]))
    }

    @Test func actionsNeedTheTokenAndArePromotedRolledBackAndReRun() throws {
        let scratch = TemporaryDirectory(prefix: "sluice-actions")
        let repo = try TestRepository()
        try repo.commit("v1", files: [
            "sluice.yaml": Self.spec.replacingOccurrences(of: "%SCRATCH%", with: scratch.path),
            "p.yaml": "rules:\n  - { metric: accuracy, direction: higher, min: 0.5, vs-production: { tolerance: 0.01 } }\n",
            "quality.json": "{\"accuracy\": 0.9}\n",
            "manifests/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: { name: acts }\ndata: { version: \"{{model.version}}\" }\n",
        ])
        let dir = TemporaryDirectory()
        let config = dir.write("controller.yaml", """
            listen: 127.0.0.1:0
            interval: 1s
            token-env: SLUICE_TEST_API_TOKEN
            repositories:
              - { name: acts, url: \(repo.path) }
            """)
        let watch = try BackgroundProcess(sluice, ["watch", "--config", config, "--state", dir.path + "/state"], readyPrefix: "sluice: listening on 127.0.0.1:",
                                          environment: ["SLUICE_TEST_API_TOKEN": "t0ken"])
        let base = "http://127.0.0.1:\(watch.readyLine.split(separator: ",")[0])"
        func metrics() throws -> String { try helper.curl([base + "/metrics"]).stdout }

        // Run 1 is promoted (no baseline) and deployed; run 2 regresses and is rejected.
        try waitUntil("run 1 promoted") { try metrics().contains("sluice_promotions_total{model=\"acts\",action=\"promote\"} 1") }
        try repo.commit("worse", files: ["quality.json": "{\"accuracy\": 0.7}\n"])
        try waitUntil("run 2 gated") { try metrics().contains("sluice_gate_verdicts_total{decision=\"reject\"} 1") }

        let m = try metrics()
        #expect(m.contains("sluice_deploys_total{environment=\"staging\",result=\"succeeded\"} 1"), "\(m)")
        #expect(m.contains("sluice_deploy_duration_seconds_count 1"))
        #expect(m.contains("sluice_commit_to_deployed_seconds_count 1"))
        let page = try helper.curl([base + "/runs/1"]).stdout
        #expect(page.contains("<h2>Deploy</h2>") && page.contains("acts version 1 to staging"))
        #expect(page.contains("What the deploy changed") && page.contains("+ configmap ml/acts (new)"))

        // Without the token, or with a wrong one: 401, and nothing changes.
        let anonymous = try post(base + "/api/runs/2/promote", token: nil, "{\"reason\": \"x\"}")
        #expect(anonymous.status == "401" && anonymous.body.contains("Authorization: Bearer"))
        #expect(try post(base + "/api/runs/2/promote", token: "wrong", "{\"reason\": \"x\"}").status == "401")
        // Located refusals.
        let noReason = try post(base + "/api/runs/2/promote", token: "t0ken")
        #expect(noReason.status == "400" && noReason.body.contains("reason"), "\(noReason)")
        #expect(try post(base + "/api/runs/99/promote", token: "t0ken", "{\"reason\": \"x\"}").status == "404")
        #expect(try post(base + "/api/runs/2/promote", token: "t0ken", "not json").status == "400")
        let succeeded = try post(base + "/api/runs/1/rerun", token: "t0ken")
        #expect(succeeded.status == "409" && succeeded.body.contains("succeeded"), "\(succeeded)")

        // An operator overrides the gate, then rolls back; both are logged with who and why.
        let promoted = try post(base + "/api/runs/2/promote", token: "t0ken", "{\"reason\": \"accepting the drop for latency\", \"actor\": \"ana\"}")
        #expect(promoted.status == "200", "\(promoted)")
        #expect(promoted.body.contains("\"version\":\"2\"") && promoted.body.contains("\"previous_version\":\"1\""), "\(promoted.body)")
        #expect(try repo.git(["show", "sluice/env/staging:ml/configmap-acts.yaml"]).contains("version: '2'"))
        let back = try post(base + "/api/models/acts/rollback", token: "t0ken", "{\"reason\": \"latency did not improve\"}")
        #expect(back.status == "200" && back.body.contains("\"action\":\"rollback\"") && back.body.contains("\"version\":\"1\""), "\(back)")
        #expect(try post(base + "/api/models/nope/rollback", token: "t0ken", "{\"reason\": \"x\"}").status == "404")
        let log = try ProcessRunner.run(sluice, ["rollback", "--list", "--repo", repo.path, "--state", dir.path + "/state", "--model", "acts"]).stdout
        #expect(log.contains("promote  version 2  (from 1)") && log.contains("by ana (api): accepting the drop for latency"), "\(log)")
        #expect(log.contains("rollback  version 1  (from 2)") && log.contains("by api: latency did not improve"))

        // A flaky failure is re-run by hand: a new run of the same commit, which succeeds.
        let flaky = try repo.commit("flaky", files: ["fail-once": "", "quality.json": "{\"accuracy\": 0.91}\n"])
        try waitUntil("run 3 failed") { try helper.curl([base + "/runs/3"]).stdout.contains("Run 3 <span class=\"badge bad\">") }
        #expect(try helper.curl([base + "/runs/3"]).stdout.contains("/api/runs/3/rerun"), "the run page says how to re-run it")
        #expect(try helper.curl([base + "/"]).stdout.contains(">Took</th>"))
        let rerun = try post(base + "/api/runs/3/rerun", token: "t0ken")
        #expect(rerun.status == "202" && rerun.body.contains("\"rerun_of\":3") && rerun.body.contains(flaky), "\(rerun)")
        try waitUntil("the re-run promoted") { try metrics().contains("sluice_promotions_total{model=\"acts\",action=\"promote\"} 3") }
        #expect(try helper.curl([base + "/runs/4"]).stdout.contains("re-run of run 3 by api"))
        watch.stop()
    }

    @Test func withoutATokenTheControllerIsReadOnly() throws {
        let repo = try TestRepository()
        try repo.commit("one", files: ["sluice.yaml": "version: 1\nstages:\n  hello: { run: \"true\" }\n"])
        let dir = TemporaryDirectory()
        let config = dir.write("controller.yaml", "listen: 127.0.0.1:0\ninterval: 10m\nrepositories:\n  - { name: ro, url: \(repo.path) }\n")
        let watch = try BackgroundProcess(sluice, ["watch", "--config", config, "--state", dir.path + "/state"], readyPrefix: "sluice: listening on 127.0.0.1:")
        let base = "http://127.0.0.1:\(watch.readyLine.split(separator: ",")[0])"
        let r = try post(base + "/api/runs/1/rerun", token: "anything")
        #expect(r.status == "403" && r.body.contains("read-only: set token-env"), "\(r)")
        watch.stop()
    }

    @Test func aMissingTokenVariableIsALocatedConfigurationError() throws {
        let dir = TemporaryDirectory()
        let config = dir.write("c.yaml", "token-env: SLUICE_TEST_UNSET_TOKEN\nrepositories:\n  - { name: a, url: /tmp/a }\n")
        let r = try ProcessRunner.run(sluice, ["watch", "--config", config, "--state", dir.path + "/state"])
        #expect(r.status == 2)
        #expect(r.stderr.contains("c.yaml:1:12: error: token-env SLUICE_TEST_UNSET_TOKEN is not set in the environment"), "\(r.stderr)")
    }

    /// A burst of signed deliveries beyond `queue-limit` per second is answered 429 and counted;
    /// the accepted ones collapse into one pending reconcile.
    @Test func aWebhookFloodIsAnswered429() throws {
        let repo = try TestRepository()
        try repo.commit("one", files: ["sluice.yaml": "version: 1\nstages:\n  hello: { run: \"true\" }\n"])
        let dir = TemporaryDirectory()
        let config = dir.write("controller.yaml", """
            listen: 127.0.0.1:0
            interval: 10m
            queue-limit: 3
            repositories:
              - { name: flood, url: \(repo.path), webhook-secret-env: SLUICE_TEST_FLOOD_SECRET }
            """)
        let watch = try BackgroundProcess(sluice, ["watch", "--config", config, "--state", dir.path + "/state"], readyPrefix: "sluice: listening on 127.0.0.1:",
                                          environment: ["SLUICE_TEST_FLOOD_SECRET": "s"])
        let base = "http://127.0.0.1:\(watch.readyLine.split(separator: ",")[0])"
        let body = "{\"ref\": \"refs/heads/main\"}"
        // One curl, 20 requests on a reused connection: well within two seconds.
        var args = ["-H", "X-GitHub-Event: push", "-H", "X-Hub-Signature-256: sha256=\(WatchTests.signature(body, "s"))", "-d", body,
                    "-w", "%{http_code}\n"]
        for _ in 0..<20 { args += ["-o", "/dev/null", base + "/webhooks/flood"] }
        let codes = try helper.curl(args).stdout.split(separator: "\n")
        #expect(codes.count == 20)
        let accepted = codes.filter { $0 == "202" }.count, throttled = codes.filter { $0 == "429" }.count
        #expect(accepted + throttled == 20 && accepted >= 3 && accepted <= 6, "\(codes)")
        let metrics = try helper.curl([base + "/metrics"]).stdout
        #expect(metrics.contains("sluice_webhooks_total{result=\"throttled\"} \(throttled)"))
        #expect(try helper.curl([base + "/healthz"]).stdout == "ok\n", "the server keeps serving")
        watch.stop()
    }
}
