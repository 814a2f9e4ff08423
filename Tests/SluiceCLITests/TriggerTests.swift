import Foundation
import Testing
import SluiceTestSupport

/// Continuous training: retrain on a schedule, or when a live metric in a real Prometheus
/// crosses a threshold, even when no commit changed anything.
@Suite struct TriggerTests {
    let sluice = RepositoryLayout.sluiceBinary

    func repository(_ when: String) throws -> TestRepository {
        let repo = try TestRepository()
        try repo.commit("first", files: [
            "data/d.csv": "x\n1\n",
            "sluice.yaml": """
                version: 1
                datasets:
                  d: { path: data/d.csv }
                stages:
                  train:
                    run: [sh, -c, "mkdir -p model && date +%s%N > model/stamp"]
                    outputs: [model/]
                    when: { datasets: [d], \(when) }
                """,
        ])
        return repo
    }

    func stages(_ r: ProcessResult) -> String { r.stdout }

    @Test func aScheduleRetrainsEvenWhenNothingChanged() throws {
        let repo = try repository("schedule: every 5s")
        let state = TemporaryDirectory(prefix: "sluice-state")
        let started = Date()
        let first = try ProcessRunner.run(sluice, ["run", "--repo", repo.path, "--state", state.path])
        #expect(first.status == 0, "\(first.stderr)")
        // Same commit again: while the schedule is not due, the stored result is reused. (On a
        // machine so busy that 5 s passed already, it is due, and that is checked below.)
        let again = try ProcessRunner.run(sluice, ["run", "--repo", repo.path, "--state", state.path])
        if Date().timeIntervalSince(started) < 5 {
            #expect(again.stdout.contains("train          cached"), "\(again.stdout)")
        }
        // Due once the schedule's interval has passed since train last ran.
        try waitUntil("the schedule to be due", timeout: 30) { Date().timeIntervalSince(started) > 5.5 }
        let due = try ProcessRunner.run(sluice, ["run", "--repo", repo.path, "--state", state.path])
        #expect(due.stdout.contains("train          succeeded"), "\(due.stdout)")
        let runs = try ProcessRunner.run(sluice, ["runs", "--repo", repo.path, "--state", state.path, "--format", "json"])
        let list = try #require(try JSONSerialization.jsonObject(with: Data(runs.stdout.utf8)) as? [[String: Any]])
        let trigger = (list.first?["run"] as? [String: Any])?["trigger"] as? String
        #expect(trigger?.contains("train: schedule every 5s: last ran") == true, "\(trigger ?? "")")
    }

    @Test func aBadScheduleIsALocatedError() throws {
        let repo = try repository("schedule: \"0 25 * * *\"")
        let r = try ProcessRunner.run(sluice, ["validate", repo.path])
        #expect(r.status == 1)
        #expect(r.stdout.contains("sluice.yaml:8:38: error: schedule of stage 'train': cron hour field '25' is outside 0-23"))
    }

    @Test(.enabled(if: RequiredTools.run(whenPresent: PrometheusServer.isInstalled), "prometheus is not installed (apt-get install prometheus): SKIPPED"))
    func aLiveMetricBelowItsThresholdRetrains() throws {
        let exporter = try MetricsExporter("live_accuracy{model=\"demo\"} 0.82\n")
        let prometheus = try PrometheusServer(scraping: exporter.target)
        try prometheus.waitFor("live_accuracy", value: "0.82")
        let repo = try repository("prometheus: { query: 'live_accuracy{model=\"demo\"}', below: 0.85 }")
        let state = TemporaryDirectory(prefix: "sluice-state")
        let env = ["SLUICE_PROMETHEUS_URL": prometheus.url]
        _ = try ProcessRunner.run(sluice, ["run", "--repo", repo.path, "--state", state.path], environment: env)
        let low = try ProcessRunner.run(sluice, ["run", "--repo", repo.path, "--state", state.path], environment: env)
        #expect(low.stdout.contains("train          succeeded"), "the metric is below 0.85: retrain\n\(low.stdout)")
        let runs = try ProcessRunner.run(sluice, ["runs", "--repo", repo.path, "--state", state.path, "--limit", "1"])
        #expect(runs.stdout.contains("train: prometheus: live_accuracy{model=\"demo\"} = 0.82 (below 0.85)"), "\(runs.stdout)")

        try exporter.set("live_accuracy{model=\"demo\"} 0.91\n")
        try prometheus.waitFor("live_accuracy", value: "0.91")
        let fine = try ProcessRunner.run(sluice, ["run", "--repo", repo.path, "--state", state.path], environment: env)
        #expect(fine.stdout.contains("train          cached"), "the metric recovered: no retraining\n\(fine.stdout)")

        // Prometheus down: the run goes on, the plan says the trigger was not evaluated.
        let down = try ProcessRunner.run(sluice, ["run", "--repo", repo.path, "--state", state.path],
                                         environment: ["SLUICE_PROMETHEUS_URL": "http://127.0.0.1:\(try FreePort.next())"])
        #expect(down.status == 0)
        #expect(down.stdout.contains("Prometheus trigger not evaluated"))
        withExtendedLifetime((exporter, prometheus)) {}
    }
}
