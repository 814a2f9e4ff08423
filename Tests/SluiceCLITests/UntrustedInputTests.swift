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
            // Where the value is written, then what is wrong with it.
            #expect(r.stderr.contains("sluice: the gate could not be evaluated: \(huge):1:14: accuracy of the \(side) is"), "\(r.stderr)")
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
        #expect(r.stderr.contains("s.json:1:46: rmse [city=x] of the candidate is 1e+200"), "\(r.stderr)")
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
            "sluice.yaml": "version: 1\nstages:\n  evaluate: { run: \"echo '{\\\"accuracy\\\": 1e300}' > m.json\", metrics: m.json }\ngate: { policy: p.yaml, model: bad }\n",
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
        // The condition says where the value is written.
        let ready = try ProcessRunner.run("curl", ["-s", base + "/readyz"]).stdout
        #expect(ready.contains("m.json of stage evaluate: accuracy of the candidate is 1e+300, outside the range"), "\(ready)")
        try good.commit("again", files: ["README.md": "more\n"])
        try waitUntil("the good repository's next run") {
            try ProcessRunner.run("curl", ["-s", base + "/metrics"]).stdout.contains("sluice_pipeline_runs_total{repository=\"good\",result=\"succeeded\"} 2")
        }
        #expect(kill(watch.pid, 0) == 0, "the controller is still running")
        let runs = try ProcessRunner.run(sluice, ["runs", "--repo", bad.path, "--state", dir.path + "/state"]).stdout
        #expect(runs.contains("could-not-evaluate"), "\(runs)")
    }
}

extension UntrustedInputTests {
    /// Symbolic links committed in the repository were followed: `data/d.csv -> /etc/passwd` put
    /// `root:x:0:0:…` into the validate-data report.
    @Test func symbolicLinksInTheRepositoryAreRefusedWhereTheyAreDeclared() throws {
        let repo = try TestRepository()
        repo.write("sluice.yaml", """
            version: 1
            stages:
              validate: { uses: validate-data, with: { data: data/d.csv, schema: schemas/d.yaml } }
              evaluate: { run: "echo '{\\"accuracy\\": 0.9}' > m.json", metrics: m.json }
            gate: { policy: p.yaml }
            """)
        repo.write("schemas/d.yaml", "columns:\n  x: { type: string }\n")
        try FileManager.default.createDirectory(atPath: repo.path + "/data", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: repo.path + "/data/d.csv", withDestinationPath: "/etc/passwd")
        try FileManager.default.createSymbolicLink(atPath: repo.path + "/p.yaml", withDestinationPath: "/etc/hostname")
        try repo.commit("links")
        let state = TemporaryDirectory(prefix: "sluice-state")
        let r = try ProcessRunner.run(sluice, ["run", "--repo", repo.path, "--state", state.path])
        #expect(r.status == 1, "\(r.stdout)\n\(r.stderr)")
        #expect(r.stderr.contains("'data' of stage 'validate' 'data/d.csv' is a symbolic link"), "\(r.stderr)")
        #expect(r.stderr.contains("policy file 'p.yaml' is a symbolic link"), "\(r.stderr)")
        #expect(!r.stdout.contains("root:x:0:0") && !r.stderr.contains("root:x:0:0"))
    }

    /// A stage that writes its metrics file as a link to a file outside the workspace.
    @Test func aMetricsFileLinkingOutsideTheWorkspaceIsRefused() throws {
        let repo = try TestRepository()
        try repo.commit("link", files: ["sluice.yaml": "version: 1\nstages:\n  evaluate: { run: \"ln -s /etc/hostname m.json\", metrics: m.json }\n"])
        let state = TemporaryDirectory(prefix: "sluice-state")
        let r = try ProcessRunner.run(sluice, ["run", "--repo", repo.path, "--state", state.path])
        #expect(r.status == 1)
        #expect(r.stdout.contains("'m.json' is a symbolic link to /etc/hostname, outside the repository"), "\(r.stdout)")
    }

    /// A 50 MB string metric made the run store 100 MB, and a 500 MB file took gigabytes of memory.
    @Test(arguments: [
        ("python3 -c \"print('{\\\"a\\\": \\\"' + 'x' * 5000 + '\\\"}')\" > m.json", "a value of 5000 bytes"),
        ("python3 -c \"import json; print(json.dumps({str(i): i for i in range(20000)}))\" > m.json", "more than 10000 entries"),
        ("head -c 20000000 /dev/zero | tr '\\\\0' ' ' > m.json", "Sluice reads metrics files of at most 16 MB"),
    ])
    func oversizedMetricsAreRefusedBeforeTheyAreStored(command: String, expected: String) throws {
        let repo = try TestRepository()
        try repo.commit("big", files: ["sluice.yaml": "version: 1\nstages:\n  evaluate: { run: [sh, make.sh], metrics: m.json }\n", "make.sh": command + "\n"])
        let state = TemporaryDirectory(prefix: "sluice-state")
        let r = try ProcessRunner.run(sluice, ["run", "--repo", repo.path, "--state", state.path])
        #expect(r.status == 1, "\(r.stdout)\n\(r.stderr)")
        #expect(r.stdout.contains(expected), "\(r.stdout)\n\(r.stderr)")
        let size = (try FileManager.default.attributesOfItem(atPath: state.path + "/sluice.sqlite")[.size] as? Int) ?? 0
        #expect(size < 5_000_000, "nothing large was stored (\(size) bytes)")
    }
}

extension UntrustedInputTests {
    /// A declared secret printed into a metric or slice name appeared in clear in the gate report.
    @Test func aSecretInAMetricOrSliceNameIsMaskedInTheReport() throws {
        let repo = try TestRepository()
        try repo.commit("leak", files: [
            "sluice.yaml": """
                version: 1
                stages:
                  evaluate:
                    run: [sh, -c, "printf '{\\"accuracy\\": 0.9, \\"%s\\": 1, \\"slices\\": {\\"k=%s\\": {\\"accuracy\\": 0.8}}}' \\"$API_KEY\\" \\"$API_KEY\\" > m.json"]
                    metrics: m.json
                    secrets: [API_KEY]
                gate: { policy: p.yaml, model: leak }
                """,
            "p.yaml": "rules:\n  - { metric: accuracy, direction: higher, min: 0.5, slices: all }\n",
        ])
        let state = TemporaryDirectory(prefix: "sluice-state")
        let secret = "s3cret-api-key-value-0042"
        let r = try ProcessRunner.run(sluice, ["run", "--repo", repo.path, "--state", state.path], environment: ["API_KEY": secret])
        #expect(r.status == 0, "\(r.stdout)\n\(r.stderr)")
        for format in ["text", "json"] {
            let report = try ProcessRunner.run(sluice, ["report", "last", "--repo", repo.path, "--state", state.path, "--format", format])
            #expect(!report.stdout.contains(secret), "\(format): \(report.stdout)")
            #expect(report.stdout.contains("k=***"), "\(report.stdout)")
        }
    }
}

extension UntrustedInputTests {
    /// A `kill -9` during a deploy once left `.git/refs/heads/sluice/env/production.lock`:
    /// every later deploy failed with "failed to lock file … for writing:" (no reason), was
    /// rolled back, and the same commit was promoted again.
    @Test func aLockFileAKilledWriterLeftIsRemovedAndAFreshOneIsExplained() throws {
        let repo = try DeployTests().repository()
        let state = TemporaryDirectory(prefix: "sluice-state")
        func run() throws -> ProcessResult { try ProcessRunner.run(sluice, ["run", "--repo", repo.path, "--state", state.path]) }
        #expect(try run().status == 0)
        let lock = repo.path + "/.git/refs/heads/sluice/env/staging.lock"

        // Old: left by a killed writer. Removed, said, and the deploy goes through.
        repo.write(".git/refs/heads/sluice/env/staging.lock", "")
        _ = try ProcessRunner.run("touch", ["-d", "10 minutes ago", lock])
        try repo.commit("better", files: ["quality.json": GateFlowTests.quality(0.95)])
        let healed = try run()
        #expect(healed.status == 0, "\(healed.stdout)\n\(healed.stderr)")
        #expect(healed.stderr.contains("removed \(lock), a lock file a killed git writer left behind"), "\(healed.stderr)")
        #expect(healed.stdout.contains("deploy: branch sluice/env/staging updated"))

        // Fresh, and no Sluice writer at work (a kill -9 a moment ago): removed as well.
        repo.write(".git/refs/heads/sluice/env/staging.lock", "")
        try repo.commit("better still", files: ["quality.json": GateFlowTests.quality(0.97)])
        let fresh = try run()
        #expect(fresh.status == 0, "\(fresh.stdout)\n\(fresh.stderr)")
        #expect(fresh.stderr.contains("removed \(lock), a lock file a killed git writer left behind"), "\(fresh.stderr)")

        // A lock Sluice cannot remove (here a folder in its place): the deploy fails with a reason
        // and what to do, and is rolled back once.
        try FileManager.default.createDirectory(atPath: lock, withIntermediateDirectories: false)
        try repo.commit("best", files: ["quality.json": GateFlowTests.quality(0.98)])
        let locked = try run()
        #expect(locked.status == 1)
        #expect(locked.stdout.contains("the lock file exists, so another git process is writing, or one was killed and left it"), "\(locked.stdout)")
        #expect(locked.stdout.contains("rolled back to version 3"), "\(locked.stdout)")
        #expect(!locked.stdout.contains("is now in production"), "the rolled-back candidate is not announced as production")
        try FileManager.default.removeItem(atPath: lock)
        let retry = try run()
        #expect(!retry.stdout.contains("is now in production"), "the same commit is not promoted twice: \(retry.stdout)")
        #expect(retry.stdout.contains("gate: report-only"), "\(retry.stdout)")
    }
}

extension UntrustedInputTests {
    /// Metrics nested 2,500 levels crashed `gate` and `run` (SIGSEGV); any YAML crashed near
    /// 40,000 levels after quadratic parsing. Now a located error at level 513, at once.
    @Test func deepNestingIsALocatedErrorNotACrash() throws {
        let dir = TemporaryDirectory(prefix: "sluice-deep")
        let policy = dir.write("p.yaml", "rules:\n  - { metric: a, direction: higher, min: 0 }\n")
        let metrics = dir.write("m.json", String(repeating: "{\"a\": ", count: 2500) + "1" + String(repeating: "}", count: 2500))
        let gate = try ProcessRunner.run(sluice, ["gate", "--candidate", metrics, "--policy", policy])
        #expect(gate.status == 2, "\(gate.stderr)")
        #expect(gate.stderr.contains("m.json:1:3073: error:") && gate.stderr.contains("nested more than 512 levels deep"), "\(gate.stderr)")

        let spec = dir.write("sluice.yaml", String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000))
        let validate = try ProcessRunner.run(sluice, ["validate", spec])
        #expect(validate.status == 1)
        #expect(validate.stdout.contains("sluice.yaml:1:513: error: nested more than 512 levels deep") ||
                validate.stderr.contains("sluice.yaml:1:513: error: nested more than 512 levels deep"), "\(validate.stdout)\(validate.stderr)")

        // A stage's metrics file nested too deep fails the stage with the same error.
        let repo = try TestRepository()
        try repo.commit("deep", files: ["sluice.yaml": "version: 1\nstages:\n  evaluate: { run: \"cp deep.json m.json\", metrics: m.json }\n",
                                        "deep.json": String(repeating: "[", count: 5000) + String(repeating: "]", count: 5000)])
        let state = TemporaryDirectory(prefix: "sluice-state")
        let run = try ProcessRunner.run(sluice, ["run", "--repo", repo.path, "--state", state.path])
        #expect(run.status == 1)
        #expect(run.stdout.contains("nested more than 512 levels deep"), "\(run.stdout)")
    }
}
