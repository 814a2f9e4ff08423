import Foundation
import Testing
import SluiceTestSupport

/// `sluice watch` with `notifications:`: what reaches Slack-, Teams-, webhook- and
/// CloudEvents-shaped receivers (each checking its format) as commits are gated and versions
/// wait for approval, delivery across a `kill -9`, and no receiver URL in the log or the state.
@Suite struct NotificationTests {
    let sluice = RepositoryLayout.sluiceBinary
    let helper = WatchTests()

    func config(_ dir: TemporaryDirectory, repo: TestRepository, interval: String = "1s") -> String {
        dir.write("controller.yaml", """
            listen: 127.0.0.1:0
            interval: \(interval)
            token-env: SLUICE_TEST_API_TOKEN
            repositories:
              - { name: demo-repo, url: \(repo.path) }
            notifications:
              providers:
                - { name: team-slack, type: slack, url-env: SLACK_WEBHOOK_URL }
                - { name: teams, type: msteams, url-env: TEAMS_URL }
                - { name: hook, type: webhook, url-env: HOOK_URL, secret-env: HOOK_SECRET }
                - { name: bus, type: cloudevents, url-env: EVENTS_URL }
              routes:
                - { providers: [team-slack], events: [gate.rejected, gate.promoted, environment.waiting-for-approval, environment.promoted] }
                - { providers: [teams], events: [gate.rejected] }
                - { providers: [hook, bus], events: ["*"], severity: warning, repositories: ["demo*"] }
            """)
    }

    func environment(_ receiver: NotificationReceiver) -> [String: String] {
        ["SLUICE_TEST_API_TOKEN": "t0ken", "SLACK_WEBHOOK_URL": receiver.url("slack"), "TEAMS_URL": receiver.url("msteams"),
         "HOOK_URL": receiver.url("webhook"), "HOOK_SECRET": "hmac-k3y", "EVENTS_URL": receiver.url("cloudevents")]
    }

    func kinds(_ receiver: NotificationReceiver, _ path: String) throws -> [String] {
        try receiver.deliveries().filter { $0.path == path && $0.answered == 200 }.compactMap { $0.json["type"] as? String ?? ($0.json["text"] as? String) }
    }

    /// The repository adds routes of its own (`notify:`) to providers the controller defines.
    static let spec = GateFlowTests.spec + """

        notify:
          - { providers: [teams], events: [gate.promoted] }
          - { providers: [nowhere], events: ["*"] }
        """

    @Test func promotedRejectedPromotedReachEachRouteWithTheRules() throws {
        let receiver = try NotificationReceiver(secret: "hmac-k3y")
        let repo = try TestRepository()
        try repo.commit("first model", files: ["sluice.yaml": Self.spec, "policies/p.yaml": GateFlowTests.policy,
                                               "data/d.csv": GateFlowTests.data(0), "quality.json": GateFlowTests.quality(0.9),
                                               "schemas/d.yaml": "columns:\n  x: { type: integer }\n  kind: { type: string }\n"])
        let dir = TemporaryDirectory()
        let state = dir.path + "/state"
        let log = dir.path + "/watch.log"
        let watch = try BackgroundProcess(sluice, ["watch", "--config", config(dir, repo: repo), "--state", state],
                                          readyPrefix: "sluice: listening on 127.0.0.1:", environment: environment(receiver), stderrFile: log)
        let port = watch.readyLine.split(separator: ",")[0]
        func slack() throws -> [String] {
            try receiver.deliveries().filter { $0.path == "/slack" && $0.answered == 200 }.compactMap { $0.json["text"] as? String }
        }
        try waitUntil("the first promotion notified") { try slack().count == 1 }
        try repo.commit("worse", files: ["quality.json": GateFlowTests.quality(0.7)])
        try waitUntil("the rejection notified") { try slack().count == 2 }
        try repo.commit("better", files: ["quality.json": GateFlowTests.quality(0.95)])
        try waitUntil("the second promotion notified") { try slack().count == 3 }
        try waitUntil("teams got its three events") { try receiver.deliveries().filter { $0.path == "/msteams" }.count == 3 }

        let texts = try slack()
        #expect(texts[0].hasPrefix("demo version 1 promoted to production (run 1)"), "\(texts[0])")
        #expect(texts[1].hasPrefix("demo: the candidate of run 2 was rejected: accuracy = 0.7"), "\(texts[1])")
        #expect(texts[1].contains("below the minimum 0.8"), "the failing rule with candidate and production values: \(texts[1])")
        #expect(texts[1].contains("http://127.0.0.1:\(port)/runs/2"), "a link to the run's page: \(texts[1])")
        #expect(texts[2].hasPrefix("demo version 3 promoted to production (run 3)"), "\(texts[2])")
        let all = try receiver.deliveries()
        for d in all { #expect(d.valid == true, "\(d.path): \(d.problem ?? "")") }
        // Teams: rejections by the controller's route, promotions by the repository's notify:.
        let teams = all.filter { $0.path == "/msteams" }.compactMap { (($0.json["attachments"] as? [Any])?.first as? [String: Any]) }
        #expect(teams.count == 3)
        // The warning-or-worse route: the rejection, to the webhook and the bus, once each.
        #expect(all.filter { $0.path == "/webhook" }.compactMap { $0.json["type"] as? String } == ["gate.rejected"])
        #expect(all.filter { $0.path == "/cloudevents" }.compactMap { $0.json["type"] as? String } == ["gate.rejected"])
        // The run page the link names answers.
        let page = try helper.curl(["-o", "/dev/null", "-w", "%{http_code}", "http://127.0.0.1:\(port)/runs/2"]).stdout
        #expect(page == "200")

        // The front page lists the latest deliveries and how each went.
        let front = try helper.curl(["http://127.0.0.1:\(port)/"]).stdout
        #expect(front.contains("<h2>Notifications</h2>") && front.contains("gate.rejected") && front.contains("team-slack"), "\(front.suffix(1500))")
        let listed = try ProcessRunner.run(sluice, ["notifications", "--state", state])
        #expect(listed.status == 0 && listed.stdout.contains("gate.rejected") && listed.stdout.contains("delivered"), "\(listed.stdout)")
        watch.stop()
        // No receiver URL (Slack's and Teams' carry their token) in the log or the state folder.
        let logged = try String(contentsOfFile: log, encoding: .utf8)
        #expect(!logged.contains(receiver.url("")) && logged.contains("notification gate.rejected delivered to team-slack"), "\(logged.suffix(2000))")
        #expect(logged.contains("demo-repo's notify: names provider 'nowhere', which the controller's notifications.providers does not define"))
        let grep = try ProcessRunner.run("grep", ["-r", "-l", "-a", "127.0.0.1:\(receiver.server.port)", state])
        #expect(grep.stdout.isEmpty, "the state folder holds a receiver URL: \(grep.stdout)")
    }

    @Test func aVersionWaitingForApprovalIsAnnouncedOnceWithAWorkingLink() throws {
        let receiver = try NotificationReceiver(secret: "hmac-k3y")
        let repo = try EnvironmentChainTests().repository(EnvironmentChainTests.spec(production: "    promote: manual\n"))
        let dir = TemporaryDirectory()
        let watch = try BackgroundProcess(sluice, ["watch", "--config", config(dir, repo: repo), "--state", dir.path + "/state"],
                                          readyPrefix: "sluice: listening on 127.0.0.1:", environment: environment(receiver))
        let base = "http://127.0.0.1:\(watch.readyLine.split(separator: ",")[0])"
        func slack() throws -> [NotificationReceiver.Delivery] { try receiver.deliveries().filter { $0.path == "/slack" && $0.answered == 200 } }
        try waitUntil("waiting for approval announced") { try slack().contains { ($0.json["text"] as? String)?.contains("waits for approval") == true } }
        try waitForPolls(base, count: 3)
        let waiting = try slack().filter { ($0.json["text"] as? String)?.contains("waits for approval into production") == true }
        #expect(waiting.count == 1, "announced once, not at every poll")
        let text = waiting.first?.json["text"] as? String ?? ""
        #expect(text.contains("sluice approve demo 1 --to production"), "\(text)")
        #expect(text.contains("verified in staging: smoke passed"), "how the version fared before: \(text)")
        let link = try #require(text.split(separator: "\n").last.map(String.init))
        #expect(link == base + "/models/demo")
        let page = try helper.curl([link]).stdout
        #expect(page.contains("Approve"), "the linked page has the approve button")

        let approved = try WatchActionTests().post(base + "/api/models/demo/versions/1/approve", token: "t0ken",
                                                   "{\"to\": \"production\", \"reason\": \"dashboards look fine\"}")
        #expect(approved.status == "200", "\(approved)")
        try waitUntil("production announced") { try slack().contains { ($0.json["text"] as? String)?.contains("reached production") == true } }
    }

    @Test func anEventRecordedBeforeAKillIsDeliveredOnceAfterTheRestart() throws {
        // The receiver refuses the first two deliveries (503, Retry-After: 1); the controller is
        // killed after the first refusal, with the event recorded and not yet delivered.
        let receiver = try NotificationReceiver(failFirst: 2, secret: "hmac-k3y")
        let repo = try TestRepository()
        try repo.commit("first model", files: ["sluice.yaml": GateFlowTests.spec, "policies/p.yaml": GateFlowTests.policy,
                                               "data/d.csv": GateFlowTests.data(0), "quality.json": GateFlowTests.quality(0.9),
                                               "schemas/d.yaml": "columns:\n  x: { type: integer }\n  kind: { type: string }\n"])
        let dir = TemporaryDirectory()
        let config = config(dir, repo: repo, interval: "10m")
        let arguments = ["watch", "--config", config, "--state", dir.path + "/state"]
        let first = try BackgroundProcess(sluice, arguments, readyPrefix: "sluice: listening on 127.0.0.1:", environment: environment(receiver))
        try waitUntil("the first refusal") { try receiver.deliveries().contains { $0.path == "/slack" } }
        kill(first.pid, SIGKILL)
        first.stop()
        #expect(try receiver.deliveries().filter { $0.path == "/slack" }.map(\.answered) == [503])

        let second = try BackgroundProcess(sluice, arguments, readyPrefix: "sluice: listening on 127.0.0.1:", environment: environment(receiver))
        try waitUntil("delivered after the restart") { try receiver.deliveries().contains { $0.path == "/slack" && $0.answered == 200 } }
        // Recorded as delivered: nothing sends it again (the store, not a wait, says so).
        try waitUntil("the delivery recorded") {
            try ProcessRunner.run(sluice, ["notifications", "--state", dir.path + "/state", "--format", "json"]).stdout
                .contains("\"state\" : \"delivered\"")
        }
        withExtendedLifetime(second) {}
        let slack = try receiver.deliveries().filter { $0.path == "/slack" }
        #expect(slack.map(\.answered) == [503, 503, 200], "\(slack.map(\.answered))")
        #expect(slack.compactMap { $0.json["text"] as? String }.filter { $0.contains("promoted") }.count == 1)
    }

    @Test func notificationSettingsWithErrorsAreRefusedEachAtItsPlace() throws {
        let dir = TemporaryDirectory()
        let config = dir.write("c.yaml", """
            repositories:
              - { name: a, url: /tmp/a }
            notifications:
              retry-for: soon
              providers:
                - { name: chat, type: slak, url-env: CHAT_URL }
                - { name: hook, type: webhook, url-env: HOOK_URL }
                - { name: bus, type: cloudevents, url-env: BUS_URL, mode: structural }
              routes:
                - { providers: [chat, hooks], events: [gate.reject], severity: critical }
            """)
        let r = try ProcessRunner.run(sluice, ["watch", "--config", config, "--check"])
        #expect(r.status == 2)
        #expect(r.stderr.contains("c.yaml:4:14: error: 'notifications.retry-for': 'soon' is not a duration"), "\(r.stderr)")
        #expect(r.stderr.contains("c.yaml:6:27: error: unknown provider type 'slak' for 'chat'") && r.stderr.contains("did you mean 'slack'"), "\(r.stderr)")
        #expect(r.stderr.contains("c.yaml:7:7: error: webhook provider 'hook' needs 'secret-env' or 'secret-file'"), "\(r.stderr)")
        #expect(r.stderr.contains("c.yaml:8:63: error: 'mode' of provider 'bus' must be binary or structured, found 'structural'"), "\(r.stderr)")
        #expect(r.stderr.contains("c.yaml:10:27: error: route names provider 'hooks', which notifications.providers does not define"), "\(r.stderr)")
        #expect(r.stderr.contains("c.yaml:10:44: error: unknown event 'gate.reject'") && r.stderr.contains("did you mean 'gate.rejected'"), "\(r.stderr)")
        #expect(!r.stderr.contains("provider 'chat', which"), "a provider with a wrong type is still known to routes: \(r.stderr)")
        #expect(r.stderr.contains("c.yaml:10:68: error: 'severity' must be info, warning or error, found 'critical'"), "\(r.stderr)")

        // The example configuration is valid once its URL is set, and says which variable is missing otherwise.
        let example = RepositoryLayout.root() + "/examples/controller.yaml"
        let unset = try ProcessRunner.run(sluice, ["watch", "--config", example, "--check"])
        #expect(unset.status == 2 && unset.stderr.contains("the URL of notification provider 'team-slack': SLACK_WEBHOOK_URL is not set in the environment"),
                "\(unset.stderr)")
        let set = try ProcessRunner.run(sluice, ["watch", "--config", example, "--check"], environment: ["SLACK_WEBHOOK_URL": "https://hooks.slack.com/services/T/B/x"])
        #expect(set.status == 0, "\(set.stderr)")
    }

    @Test func notifyTestSendsASampleAndSaysWhatTheReceiverAnswered() throws {
        let receiver = try NotificationReceiver(secret: "hmac-k3y")
        let repo = try TestRepository()
        let dir = TemporaryDirectory()
        let config = config(dir, repo: repo)
        let ok = try ProcessRunner.run(sluice, ["notify", "test", "--config", config, "--provider", "hook"], environment: environment(receiver))
        #expect(ok.status == 0 && ok.stdout.contains("hook: HTTP 200"), "\(ok.stdout)\(ok.stderr)")
        #expect(try receiver.deliveries().first?.valid == true)
        var wrong = environment(receiver)
        wrong["HOOK_SECRET"] = "not-the-key"
        let refused = try ProcessRunner.run(sluice, ["notify", "test", "--config", config, "--provider", "hook"], environment: wrong)
        #expect(refused.status == 1 && refused.stdout.contains("hook: HTTP 400") && refused.stdout.contains("X-Sluice-Signature-256"), "\(refused.stdout)")
        let unknown = try ProcessRunner.run(sluice, ["notify", "test", "--config", config, "--provider", "slack"], environment: environment(receiver))
        #expect(unknown.status != 0 && unknown.stderr.contains("defines no notification provider 'slack'") && unknown.stderr.contains("team-slack"),
                "\(unknown.stderr)")
    }

    /// The iris demo's three commits through the controller: promoted (into staging, then
    /// production), rejected with the rule that failed, promoted again.
    @Test(.enabled(if: RequiredTools.run(whenPresent: ProcessRunner.has("prometheus")), "prometheus is not installed: SKIPPED"))
    func theIrisDemosThreeCommitsAreAnnouncedWithTheirRules() throws {
        let staging = try IrisStagingPrometheus()
        let receiver = try NotificationReceiver(secret: "hmac-k3y")
        let repo = try TestRepository()
        try ProcessRunner.run("cp", ["-R", RepositoryLayout.root() + "/examples/iris/.", repo.path])
        repo.write("sluice.yaml", staging.adapt(try String(contentsOfFile: repo.path + "/sluice.yaml", encoding: .utf8)))
        try repo.commit("iris: first model")
        let dir = TemporaryDirectory()
        let watch = try BackgroundProcess(sluice, ["watch", "--config", config(dir, repo: repo), "--state", dir.path + "/state"],
                                          readyPrefix: "sluice: listening on 127.0.0.1:",
                                          environment: environment(receiver).merging(staging.environment) { a, _ in a })
        func slack() throws -> [String] {
            try receiver.deliveries().filter { $0.path == "/slack" && $0.answered == 200 }.compactMap { $0.json["text"] as? String }
        }
        func reached(_ count: Int) throws -> Bool { try slack().filter { $0.contains("reached production") }.count == count }
        try waitUntil("version 1 in production", timeout: 180) { try reached(1) }
        try ProcessRunner.run("python3", [RepositoryLayout.root() + "/examples/demo_data.py", "mislabel", repo.path + "/data/iris.csv"])
        try repo.commit("data: import annotation batch 2")
        try waitUntil("the rejection", timeout: 180) { try slack().contains { $0.contains("was rejected") } }
        try ProcessRunner.run("python3", [RepositoryLayout.root() + "/examples/demo_data.py", "fix", repo.path + "/data/iris.csv",
                                          RepositoryLayout.root() + "/examples/iris/data/iris.csv"])
        try repo.commit("data: relabel batch 2, add 30 flowers")
        try waitUntil("the second version in production", timeout: 180) { try reached(2) }

        let gate = try slack().filter { $0.contains("the gate") || $0.contains("rejected") }
        #expect(gate.count == 3, "\(gate)")
        #expect(gate.first?.hasPrefix("iris version 1 passed the gate and enters staging (run 1)") == true, "\(gate)")
        let rejected = gate.dropFirst().first ?? ""
        #expect(rejected.hasPrefix("iris: the candidate of run 2 was rejected: accuracy = "), "\(rejected)")
        #expect(rejected.contains("below the minimum 0.85") || rejected.contains("than production"), "the failing rule: \(rejected)")
        #expect(gate.last?.hasPrefix("iris version 3 passed the gate and enters staging (run 3)") == true, "\(gate)")
        for d in try receiver.deliveries() { #expect(d.valid == true, "\(d.path): \(d.problem ?? "")") }
        withExtendedLifetime(watch) {}
    }
}
