import Crypto
import Foundation
import Testing
import SluiceTestSupport

/// `sluice watch`: the reconcile loop, webhooks, /metrics, the web UI, and a clean SIGTERM.
@Suite struct WatchTests {
    let sluice = RepositoryLayout.sluiceBinary

    func curl(_ args: [String]) throws -> ProcessResult { try ProcessRunner.run("curl", ["-s", "--max-time", "10"] + args) }

    static func signature(_ body: String, _ secret: String) -> String {
        HMAC<SHA256>.authenticationCode(for: Data(body.utf8), using: SymmetricKey(data: Data(secret.utf8))).map { String(format: "%02x", $0) }.joined()
    }

    @Test func aConfigurationWithErrorsIsRefusedWhole() throws {
        let dir = TemporaryDirectory()
        let config = dir.write("c.yaml", """
            listen: nowhere
            intervall: 5s
            repositories:
              - name: a
                url: /tmp/a
                webhook-secret-env: SLUICE_TEST_UNSET_SECRET
              - name: a
                url: /tmp/b
              - name: c
            """)
        let r = try ProcessRunner.run(sluice, ["watch", "--config", config, "--state", dir.path + "/state"])
        #expect(r.status == 2)
        #expect(r.stderr.contains("c.yaml:1:9: error: 'listen' must be host:port, found 'nowhere'"))
        #expect(r.stderr.contains("c.yaml:2:1: error: unknown key 'intervall'") && r.stderr.contains("did you mean 'interval'"))
        #expect(r.stderr.contains("error: repository name 'a' is used twice"))
        #expect(r.stderr.contains("error: repository 'c' needs a 'url'"))
    }

    @Test func reconcilesOnWebhooksServesMetricsAndTheUIAndStopsCleanly() throws {
        let repo = try TestRepository()
        try repo.commit("one", files: ["sluice.yaml": "version: 1\nstages:\n  hello: { run: \"echo hello $SLUICE_COMMIT\" }\n"])
        let dir = TemporaryDirectory()
        let config = dir.write("controller.yaml", """
            listen: 127.0.0.1:0
            interval: 10m
            repositories:
              - name: demo
                url: \(repo.path)
                webhook-secret-env: SLUICE_TEST_WEBHOOK_SECRET
              - name: broken
                url: \(dir.path)/no-such-repository
            """)
        let state = dir.path + "/state"
        let watch = try BackgroundProcess(sluice, ["watch", "--config", config, "--state", state], readyPrefix: "sluice: listening on 127.0.0.1:",
                                          environment: ["SLUICE_TEST_WEBHOOK_SECRET": "s3cret"])
        let port = watch.readyLine.split(separator: ",")[0]
        let base = "http://127.0.0.1:\(port)"

        // The first poll runs the head commit.
        try waitUntil("the first run") { try curl([base + "/metrics"]).stdout.contains("result=\"succeeded\"} 1") }

        // A push with a signed webhook is reconciled at once (the poll interval is 10 minutes).
        let two = try repo.commit("two", files: ["README.md": "two\n"])
        let body = "{\"ref\": \"refs/heads/main\", \"after\": \"\(two)\"}"
        let accepted = try curl(["-X", "POST", base + "/webhooks/demo", "-H", "X-GitHub-Event: push",
                                 "-H", "X-Hub-Signature-256: sha256=\(Self.signature(body, "s3cret"))", "-d", body, "-w", "%{http_code}"])
        #expect(accepted.stdout.hasSuffix("202"), "\(accepted.stdout)")
        try waitUntil("the webhook's run") { try curl([base + "/metrics"]).stdout.contains("result=\"succeeded\"} 2") }

        let forged = try curl(["-X", "POST", base + "/webhooks/demo", "-H", "X-GitHub-Event: push", "-H", "X-Hub-Signature-256: sha256=00",
                               "-d", body, "-o", "/dev/null", "-w", "%{http_code}"])
        #expect(forged.stdout == "401")
        let gitlab = try curl(["-X", "POST", base + "/webhooks/demo", "-H", "X-Gitlab-Event: Push Hook", "-H", "X-Gitlab-Token: s3cret",
                               "-d", "not json", "-o", "/dev/null", "-w", "%{http_code}"])
        #expect(gitlab.stdout == "400", "a signed but malformed payload")
        let unknown = try curl(["-X", "POST", base + "/webhooks/nope", "-d", "{}", "-o", "/dev/null", "-w", "%{http_code}"])
        #expect(unknown.stdout == "404")

        let metrics = try curl([base + "/metrics"]).stdout
        #expect(metrics.contains("sluice_webhooks_total{result=\"unauthorized\"} 1"))
        #expect(metrics.contains("sluice_webhooks_total{result=\"accepted\"} 1"))
        #expect(metrics.contains("sluice_repository_healthy{repository=\"broken\"} 0"), "a broken repository is marked, the other keeps running")
        #expect(metrics.contains("sluice_repository_healthy{repository=\"demo\"} 1"))
        // Both runs took a shared run slot and gave it back; fetches take theirs.
        #expect(metrics.contains("sluice_slots_in_use{kind=\"run\"} 0") && metrics.contains("sluice_slots_waiting{kind=\"run\"} 0"), "\(metrics)")
        #expect(metrics.contains("sluice_slots_in_use{kind=\"fetch\"}"))
        #expect(try curl([base + "/healthz"]).stdout == "ok\n")
        let ready = try curl([base + "/readyz"]).stdout
        #expect(ready.hasPrefix("ready: single replica\n"), "\(ready)")
        #expect(ready.contains("broken: Ready=False (FetchFailed): Fetched: "), "a repository that is not Ready is listed: \(ready)")
        let home = try curl([base + "/"]).stdout
        #expect(home.contains("<a href=\"/repositories/demo\">demo</a></h3>\n<p><span class=\"badge ok\">") && home.contains("</svg>ready</span>"), "\(home)")
        #expect(home.contains("not ready (FetchFailed): "), "the card says what /readyz says: \(home)")
        #expect(try curl([base + "/runs/2"]).stdout.contains("Run 2 <span class=\"badge ok\">"))

        kill(watch.pid, SIGTERM)
        var status: Int32 = 0
        waitpid(watch.pid, &status, 0)
        #expect((status & 0x7f) == 0 && (status >> 8) & 0xff == 0, "SIGTERM exits 0 (status \(status))")
    }
}

extension WatchTests {
    /// `kill -9` the controller mid-stage: the restart marks the run interrupted, retries it,
    /// and the model is promoted exactly once.
    @Test func killDashNineDuringAWatchedRunNeverPromotesTwice() throws {
        let repo = try TestRepository()
        let scratch = TemporaryDirectory(prefix: "sluice-watch-crash")
        let mark = scratch.path + "/started"
        try repo.commit("model", files: [
            "sluice.yaml": """
                version: 1
                stages:
                  evaluate:
                    run: "if [ ! -e \(mark) ]; then touch \(mark); sleep 60; fi; echo '{\\"accuracy\\": 0.9}' > m.json"
                    metrics: m.json
                gate: { policy: p.yaml, model: crash }
                """,
            "p.yaml": "rules:\n  - { metric: accuracy, direction: higher, min: 0.5 }\n",
        ])
        let dir = TemporaryDirectory()
        let config = dir.write("controller.yaml", "listen: 127.0.0.1:0\ninterval: 1s\nrepositories:\n  - { name: crash, url: \(repo.path) }\n")
        let state = dir.path + "/state"
        let first = try BackgroundProcess(sluice, ["watch", "--config", config, "--state", state], readyPrefix: "sluice: listening on")
        try waitUntil("the stage to start") { FileManager.default.fileExists(atPath: mark) }
        kill(first.pid, SIGKILL)
        var status: Int32 = 0
        waitpid(first.pid, &status, 0)

        let second = try BackgroundProcess(sluice, ["watch", "--config", config, "--state", state], readyPrefix: "sluice: listening on 127.0.0.1:")
        try waitUntil("the promotion") {
            try ProcessRunner.run(sluice, ["rollback", "--list", "--repo", repo.path, "--state", state]).stdout.contains("promote  version 1")
        }
        // Two more polls (seen on /metrics), then nothing may have been promoted again.
        let metrics = "http://127.0.0.1:\(second.readyLine.split(separator: ",")[0])/metrics"
        func lastPoll() throws -> Double {
            let line = try curl([metrics]).stdout.split(separator: "\n").first { $0.hasPrefix("sluice_last_successful_poll_timestamp_seconds{") }
            return line.flatMap { $0.split(separator: " ").last }.flatMap { Double($0) } ?? 0
        }
        let seen = try lastPoll()
        try waitUntil("two more polls") { try lastPoll() >= seen + 2 }
        second.stop()
        let log = try ProcessRunner.run(sluice, ["rollback", "--list", "--repo", repo.path, "--state", state])
        #expect(log.stdout.split(separator: "\n").count == 1, "\(log.stdout)")
        let runs = try ProcessRunner.run(sluice, ["runs", "--all", "--state", state, "--format", "json"])
        let list = try #require(try JSONSerialization.jsonObject(with: Data(runs.stdout.utf8)) as? [[String: Any]])
        let statuses = list.compactMap { ($0["run"] as? [String: Any])?["status"] as? String }
        #expect(statuses.sorted() == ["interrupted", "succeeded"], "\(statuses)")
    }
}

extension WatchTests {
    func runs(_ state: String) throws -> [[String: Any]] {
        let out = try ProcessRunner.run(sluice, ["runs", "--all", "--state", state, "--format", "json"]).stdout
        return ((try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [[String: Any]]) ?? []).compactMap { $0["run"] as? [String: Any] }
    }

    func slowRepository() throws -> TestRepository {
        let repo = try TestRepository()
        try repo.commit("slow", files: [
            "sluice.yaml": "version: 1\nstages:\n  work: { run: \"if grep -q slow mode; then sleep 60; fi\" }\n",
            "mode": "slow\n",
        ])
        return repo
    }

    /// A newer commit on the production branch cancels the run in progress, which is recorded
    /// as superseded; the newer one runs.
    @Test func aNewerCommitSupersedesTheRunningPipeline() throws {
        let repo = try slowRepository()
        let dir = TemporaryDirectory()
        let config = dir.write("controller.yaml", "listen: 127.0.0.1:0\ninterval: 1s\nrepositories:\n  - { name: s, url: \(repo.path) }\n")
        let state = dir.path + "/state"
        let watch = try BackgroundProcess(sluice, ["watch", "--config", config, "--state", state], readyPrefix: "sluice: listening on")
        try waitUntil("run 1 to start") { try runs(state).contains { $0["status"] as? String == "running" } }
        try repo.commit("fast", files: ["mode": "fast\n"])
        try waitUntil("run 2 to succeed") { try runs(state).contains { $0["id"] as? Int == 2 && $0["status"] as? String == "succeeded" } }
        let first = try #require(try runs(state).first { $0["id"] as? Int == 1 })
        #expect(first["status"] as? String == "cancelled")
        #expect(first["message"] as? String == "superseded by a newer commit on refs/heads/main", "\(first)")
        watch.stop()
    }

    /// SIGTERM past --grace cancels the running pipeline, says so, and exits 0; the restart runs it again.
    @Test func sigtermPastTheGraceCancelsAndTheRestartRedoesIt() throws {
        let repo = try slowRepository()
        let dir = TemporaryDirectory()
        let config = dir.write("controller.yaml", "listen: 127.0.0.1:0\ninterval: 1s\nrepositories:\n  - { name: s, url: \(repo.path) }\n")
        let state = dir.path + "/state"
        let watch = try BackgroundProcess(sluice, ["watch", "--config", config, "--state", state, "--grace", "1"], readyPrefix: "sluice: listening on")
        try waitUntil("run 1 to start") { try runs(state).contains { $0["status"] as? String == "running" } }
        kill(watch.pid, SIGTERM)
        var status: Int32 = 0
        waitpid(watch.pid, &status, 0)
        #expect((status & 0x7f) == 0 && (status >> 8) & 0xff == 0, "exit 0 (status \(status))")
        let first = try #require(try runs(state).first)
        #expect(first["status"] as? String == "cancelled")
        #expect(first["message"] as? String == "the controller stopped before it finished (a restart runs it again)", "\(first)")
        try repo.commit("fast", files: ["mode": "fast\n"])
        let again = try BackgroundProcess(sluice, ["watch", "--config", config, "--state", state], readyPrefix: "sluice: listening on")
        try waitUntil("the restart's run") { try runs(state).contains { $0["status"] as? String == "succeeded" } }
        again.stop()
    }
}
