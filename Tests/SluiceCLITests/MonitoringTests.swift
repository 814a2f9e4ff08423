import Foundation
import Testing
import SluiceTestSupport

/// The alerts and the Grafana dashboard shipped in `manifests/monitoring/`, checked with the
/// real tools: `promtool` for the rules, a real Prometheus scraping a real controller for every
/// dashboard query.
@Suite struct MonitoringTests {
    let sluice = RepositoryLayout.sluiceBinary
    static let folder = RepositoryLayout.root() + "/manifests/monitoring"

    /// A YAML file as JSON (PyYAML, which the tests install), to pick the parts the tools read.
    func yaml(_ file: String) throws -> Any {
        let r = try ProcessRunner.run("python3", ["-c", "import sys, yaml, json; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))", file])
        #expect(r.status == 0, "\(r.stderr)")
        return try JSONSerialization.jsonObject(with: Data(r.stdout.utf8))
    }

    func dashboardQueries() throws -> [String] {
        let configMap = try yaml(Self.folder + "/60-dashboard.yaml") as? [String: Any]
        let text = (configMap?["data"] as? [String: String])?["sluice.json"] ?? ""
        let dashboard = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
        let panels = dashboard?["panels"] as? [[String: Any]] ?? []
        return panels.flatMap { ($0["targets"] as? [[String: Any]] ?? []).compactMap { $0["expr"] as? String } }
    }

    /// The metric families an expression reads.
    func families(_ expr: String) throws -> Set<String> {
        let names = expr.matches(of: try Regex("(sluice|hb)_[a-z_]+")).map { String(expr[$0.range]) }
        return Set(names.map { name in
            for suffix in ["_bucket", "_sum", "_count"] where name.hasSuffix(suffix) { return String(name.dropLast(suffix.count)) }
            return name
        })
    }

    @Test func alertRulesPassPromtoolAndFireWhenTheyShould() throws {
        let rule = try yaml(Self.folder + "/50-alerts.yaml") as? [String: Any]
        let spec = rule?["spec"] as? [String: Any] ?? [:]
        let dir = TemporaryDirectory(prefix: "sluice-rules")
        let rules = dir.write("rules.yaml", String(decoding: try JSONSerialization.data(withJSONObject: spec), as: UTF8.self))
        let check = try ProcessRunner.run("promtool", ["check", "rules", rules])
        #expect(check.status == 0, "\(check.stdout)\n\(check.stderr)")
        #expect(check.stdout.contains("SUCCESS: 6 rules found"), "\(check.stdout)")
        let tests = dir.write("tests.yaml", """
            rule_files: [rules.yaml]
            evaluation_interval: 1m
            tests:
              - interval: 1m
                input_series:
                  - series: 'sluice_condition{repository="iris",environment="",type="Ready",status="False",reason="InvalidSpec"}'
                    values: '1x30'
                  - series: 'sluice_deploys_total{environment="prod",result="failed"}'
                    values: '0 0 1 1 1'
                  - series: 'sluice_condition{repository="iris",environment="prod",type="InSync",status="False",reason="Drifted"}'
                    values: '1x10'
                  - series: 'sluice_notifications_total{provider="team-slack",result="failed"}'
                    values: '0 0 0 1 1'
                  - series: 'sluice_notifications_total{provider="bus",result="delivered"}'
                    values: '0 5 10 15 20'
                alert_rule_test:
                  - eval_time: 10m
                    alertname: SluiceRepositoryNotReady
                    exp_alerts: []
                  - eval_time: 20m
                    alertname: SluiceRepositoryNotReady
                    exp_alerts:
                      - exp_labels: { severity: warning, repository: iris, type: Ready, status: "False", reason: InvalidSpec }
                        exp_annotations:
                          summary: "Repository iris is not Ready (InvalidSpec)"
                          description: "See `sluice status` or the controller's web UI for the condition's message; the controller logs it once when it changes."
                  - eval_time: 4m
                    alertname: SluiceDeployFailed
                    exp_alerts:
                      - exp_labels: { severity: critical, environment: prod }
                        exp_annotations:
                          summary: "A deploy to prod failed"
                          description: "The rollout did not become healthy or the apply failed; Sluice rolled production back. See the run's deploy report."
                  - eval_time: 10m
                    alertname: SluiceEnvironmentDrifted
                    exp_alerts: []
                  - eval_time: 2m
                    alertname: SluiceNotificationsFailing
                    exp_alerts: []
                  - eval_time: 4m
                    alertname: SluiceNotificationsFailing
                    exp_alerts:
                      - exp_labels: { severity: warning, provider: team-slack }
                        exp_annotations:
                          summary: "Notifications to team-slack failed"
                          description: "The receiver refused them, or did not accept them within notifications.retry-for. `sluice notifications` lists each with the receiver's answer."
            """)
        let unit = try ProcessRunner.run("promtool", ["test", "rules", tests], cwd: dir.path)
        #expect(unit.status == 0, "\(unit.stdout)\n\(unit.stderr)")
    }

    @Test func everyDashboardQueryRunsAgainstAControllersMetrics() throws {
        let queries = try dashboardQueries()
        #expect(queries.count >= 10)
        let repo = try DeployTests().repository()
        let dir = TemporaryDirectory(prefix: "sluice-controller")
        let config = dir.write("controller.yaml", "listen: 127.0.0.1:0\ninterval: 1s\nrepositories:\n  - { name: demo, url: \(repo.path), webhook-secret-env: SLUICE_TEST_SECRET }\n")
        let watch = try BackgroundProcess(sluice, ["watch", "--config", config, "--state", dir.path + "/state"], readyPrefix: "sluice: listening on 127.0.0.1:",
                                          environment: ["SLUICE_TEST_SECRET": "s3cret"])
        let address = "127.0.0.1:\(watch.readyLine.split(separator: ",")[0])"
        func metrics() throws -> String { try ProcessRunner.run("curl", ["-s", "http://\(address)/metrics"]).stdout }
        try waitUntil("the first promotion") { try metrics().contains("sluice_deploys_total{environment=\"staging\",result=\"succeeded\"} 1") }
        // A merge request at the production commit: its stages are cache hits.
        try repo.git(["update-ref", "refs/pull/1/head", "HEAD"])
        try waitUntil("a cached run") { try metrics().contains("sluice_cache_hits_total") }
        _ = try ProcessRunner.run("curl", ["-s", "-X", "POST", "http://\(address)/webhooks/demo", "-d", "{}"])
        let text = try metrics()
        for expr in queries {
            for family in try families(expr) {
                #expect(text.contains("# TYPE \(family) "), "the dashboard reads \(family), which the controller does not export: \(expr)")
            }
        }

        let prometheus = try PrometheusServer(scraping: address)
        try prometheus.waitFor("count(sluice_pipeline_runs_total)", value: "1")
        for expr in queries {
            let q = expr.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? expr
            let answer = try ProcessRunner.run("curl", ["-s", "\(prometheus.url)/api/v1/query?query=\(q)"]).stdout
            let json = try JSONSerialization.jsonObject(with: Data(answer.utf8)) as? [String: Any]
            #expect(json?["status"] as? String == "success", "\(expr): \(answer)")
            for family in try families(expr) {
                let c = "count(\(family)\(family.hasPrefix("sluice_stage_duration") || family.hasPrefix("sluice_commit_to") || family.hasPrefix("sluice_deploy_duration") ? "_count" : ""))"
                let found = try ProcessRunner.run("curl", ["-s", "\(prometheus.url)/api/v1/query?query=\(c.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? c)"]).stdout
                #expect(found.contains("\"result\":[{"), "Prometheus has no \(family) series: \(found)")
            }
        }
        withExtendedLifetime(watch) {}
    }
}
