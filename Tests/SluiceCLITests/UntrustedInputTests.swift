import Foundation
import Testing
import SluiceTestSupport

/// Numbers from repositories never crash Sluice (issue: "untrusted input never crashes Sluice").
@Suite struct UntrustedInputTests {
    let sluice = RepositoryLayout.sluiceBinary
    static let policy = "rules:\n  - metric: accuracy\n    direction: higher\n    min: 0.85\n    vs-production: { tolerance: 0.25 }\n"

    /// These crashed `sluice gate` with "Double value cannot be converted to Int" (exit 132).
    @Test(arguments: ["1e300", "1e999", "-1e999", String(repeating: "9", count: 400), "9.3e18", "-9.3e18"])
    func aHugeMetricValueFailsClosedInsteadOfCrashing(value: String) throws {
        let dir = TemporaryDirectory(prefix: "sluice-gate")
        let policy = dir.write("p.yaml", Self.policy)
        let huge = dir.write("huge.json", "{\"accuracy\": \(value)}")
        let normal = dir.write("normal.json", "{\"accuracy\": 0.9}")
        for (candidate, production, side) in [(huge, normal, "candidate"), (normal, huge, "production")] {
            let r = try ProcessRunner.run(sluice, ["gate", "--candidate", candidate, "--production", production, "--policy", policy])
            #expect(r.status == 2, "\(value) on the \(side): exit \(r.status)\n\(r.stderr)")
            #expect(r.stderr.contains("sluice: the gate could not be evaluated: accuracy of the \(side) is"), "\(r.stderr)")
            #expect(r.stderr.contains("outside the range Sluice compares"))
        }
    }

    /// A slice value is checked too, and a value within range is still compared.
    @Test func sliceValuesAreCheckedAndLargeButSaneValuesCompare() throws {
        let dir = TemporaryDirectory(prefix: "sluice-gate")
        let policy = dir.write("p.yaml", "rules:\n  - { metric: rmse, direction: lower, max: 1e12, slices: all }\n")
        let sliced = dir.write("s.json", "{\"rmse\": 5e11, \"slices\": {\"city=x\": {\"rmse\": 1e200}}}")
        let r = try ProcessRunner.run(sluice, ["gate", "--candidate", sliced, "--policy", policy])
        #expect(r.status == 2)
        #expect(r.stderr.contains("rmse [city=x] of the candidate is 1e+200"), "\(r.stderr)")
        let fine = dir.write("f.json", "{\"rmse\": 5e11, \"slices\": {\"city=x\": {\"rmse\": 9.99e14}}}")
        let ok = try ProcessRunner.run(sluice, ["gate", "--candidate", fine, "--policy", policy])
        #expect(ok.status == 1, "9.99e14 is within range and above the bound: \(ok.stdout)\(ok.stderr)")
        #expect(ok.stdout.contains("999000000000000"), "\(ok.stdout)")
    }

    /// One repository's metrics killed `sluice watch` (and every restart): now its gate cannot
    /// be evaluated, and the other repository is served as before.
    @Test func aRepositoryWhoseMetricsOnceCrashedTheControllerDoesNotStopTheOthers() throws {
        let bad = try TestRepository()
        try bad.commit("huge", files: [
            "sluice.yaml": "version: 1\nstages:\n  evaluate: { run: \"echo '{\\\"accuracy\\\": 1e999}' > m.json\", metrics: m.json }\ngate: { policy: p.yaml, model: bad }\n",
            "p.yaml": Self.policy,
        ])
        let good = try TestRepository()
        try good.commit("fine", files: ["sluice.yaml": "version: 1\nstages:\n  hello: { run: echo hello }\n"])
        let dir = TemporaryDirectory(prefix: "sluice-controller")
        let config = dir.write("controller.yaml", "listen: 127.0.0.1:0\ninterval: 1s\nrepositories:\n  - { name: bad, url: \(bad.path) }\n  - { name: good, url: \(good.path) }\n")
        let watch = try BackgroundProcess(sluice, ["watch", "--config", config, "--state", dir.path + "/state"], readyPrefix: "sluice: listening on 127.0.0.1:")
        let base = "http://127.0.0.1:\(watch.readyLine.split(separator: ",")[0])"
        try waitUntil("both repositories reconciled") {
            let ready = try ProcessRunner.run("curl", ["-s", base + "/readyz"]).stdout
            return ready.contains("bad: Ready=False (GateNotEvaluated)") && ready.contains("good: Ready=True")
        }
        try good.commit("again", files: ["README.md": "more\n"])
        try waitUntil("the good repository's next run") {
            try ProcessRunner.run("curl", ["-s", base + "/metrics"]).stdout.contains("sluice_pipeline_runs_total{repository=\"good\",result=\"succeeded\"} 2")
        }
        #expect(kill(watch.pid, 0) == 0, "the controller is still running")
        let runs = try ProcessRunner.run(sluice, ["runs", "--repo", bad.path, "--state", dir.path + "/state"]).stdout
        #expect(runs.contains("could-not-evaluate"), "\(runs)")
    }
}
