import Foundation
import Testing
import SluiceTestSupport

/// The controller reconciles by state (issue: "the controller as a level-triggered reconciler"):
/// each test reproduces one symptom of the event-driven controller through the real binary
/// against repositories served by `git daemon`.
@Suite(.serialized) struct ReconcilerTests {
    let sluice = RepositoryLayout.sluiceBinary

    static let schema = "columns:\n  x: { type: integer }\n  kind: { type: string }\n"

    /// GateFlowTests' pipeline with a `test` stage that train needs.
    static let spec = GateFlowTests.spec.replacingOccurrences(of: """
          train:
            run: [sh, -c, "mkdir -p model && cp data/d.csv model/weights.csv"]
            needs: [validate]
        """, with: """
          test:
            run: [sh, test.sh]
          train:
            run: [sh, -c, "mkdir -p model && cp data/d.csv model/weights.csv"]
            needs: [validate, test]
            when: { datasets: [d], paths: ["train/**"] }
        """).replacingOccurrences(of: """
            needs: [train]
            metrics: metrics.json
        """, with: """
            needs: [train]
            when: { paths: [quality.json] }
            metrics: metrics.json
        """)

    static func files(data: Int = 0, test: String = "exit 0", quality: Double = 0.9) -> [String: String] {
        ["sluice.yaml": spec, "policies/p.yaml": GateFlowTests.policy, "data/d.csv": GateFlowTests.data(data),
         "schemas/d.yaml": schema, "quality.json": GateFlowTests.quality(quality), "test.sh": test + "\n"]
    }

    func json(_ text: String) throws -> Any { try JSONSerialization.jsonObject(with: Data(text.utf8)) }

    /// The stored gate report of `run`, as JSON.
    func report(_ run: Int, state: String, repo: String) throws -> [String: Any] {
        let r = try ProcessRunner.run(sluice, ["report", String(run), "--state", state, "--repo", repo, "--format", "json"])
        return (try json(r.stdout) as? [String: Any]) ?? [:]
    }

    func stageStatus(_ report: [String: Any], _ stage: String) -> String? {
        (report["stages"] as? [[String: Any]])?.first { $0["stage"] as? String == stage }?["status"] as? String
    }

    func runs(_ state: String, _ repo: String) throws -> [[String: Any]] {
        let r = try ProcessRunner.run(sluice, ["runs", "--repo", repo, "--state", state, "--format", "json"])
        return ((try? json(r.stdout)) as? [[String: Any]] ?? []).compactMap { $0["run"] as? [String: Any] }
    }

    func curl(_ url: String) throws -> String { try ProcessRunner.run("curl", ["-s", "--max-time", "10", url]).stdout }

    /// Starts `sluice watch` on one repository named `iris`, polled every second, with its state
    /// in `dir/state` and its log in `dir/controller.log`; returns the process and its base URL.
    /// - Parameter settings: more keys of the repository's entry, one per line.
    func controller(_ url: String, in dir: TemporaryDirectory, settings: [String] = [],
                    environment: [String: String] = [:]) throws -> (BackgroundProcess, String) {
        let config = dir.write("controller.yaml", "listen: 127.0.0.1:0\ninterval: 1s\nrepositories:\n  - name: iris\n    url: \(url)\n"
                                + settings.map { "    \($0)\n" }.joined())
        let watch = try BackgroundProcess(sluice, ["watch", "--config", config, "--state", dir.path + "/state"],
                                          readyPrefix: "sluice: listening on 127.0.0.1:", environment: environment, stderrFile: dir.path + "/controller.log")
        return (watch, "http://127.0.0.1:\(watch.readyLine.split(separator: ",")[0])")
    }

    /// A repository's forge setting pointing at the fake, with its token in SLUICE_TEST_FORGE_TOKEN.
    static func forge(_ fake: ForgeFake) -> String {
        "forge: { kind: github, project: acme/iris, api: \(fake.api("github")), token-env: SLUICE_TEST_FORGE_TOKEN }"
    }

    /// Symptom 2: new data committed with a failing test was never trained: the fix commit
    /// compared its data with its parent's and skipped training.
    @Test func aDataChangeWhoseRunFailedIsTrainedByTheFixCommit() throws {
        let repo = try ServedRepository()
        let state = TemporaryDirectory(prefix: "sluice-state")
        func run() throws -> ProcessResult { try ProcessRunner.run(sluice, ["run", "--repo", repo.url, "--state", state.path]) }
        try repo.commit("first model", files: Self.files())
        let first = try run()
        #expect(first.status == 0, "\(first.stdout)\n\(first.stderr)")
        #expect(first.stdout.contains("version 1 is now in production"))

        try repo.commit("new data, broken test", files: ["data/d.csv": GateFlowTests.data(3), "test.sh": "exit 1\n"])
        let broken = try run()
        #expect(broken.status == 1)
        #expect(broken.stdout.contains("blocked"), "train cannot run after the failed test: \(broken.stdout)")

        let fix = try repo.commit("fix the test", files: ["test.sh": "exit 0\n"])
        let fixed = try run()
        #expect(fixed.status == 0, "\(fixed.stdout)\n\(fixed.stderr)")
        #expect(fixed.stdout.contains("version 2 is now in production"), "\(fixed.stdout)")
        let r = try report(3, state: state.path, repo: repo.url)
        #expect(stageStatus(r, "train") == "succeeded", "the new data is trained: \(r["stages"] ?? "")")
        let dataVersion = try repo.work.git(["rev-parse", "\(fix):data/d.csv"])
        #expect((r["datasetVersions"] as? [String: String])?["d"] == dataVersion, "the promoted model's lineage names the data it was trained on")

        // Nothing changed since: a docs-only commit registers nothing new (the same model, version 2).
        try repo.commit("docs", files: ["README.md": "docs\n"])
        let docs = try run()
        #expect(docs.status == 0, "\(docs.stdout)\n\(docs.stderr)")
        #expect(docs.stdout.contains("gate: report-only"), "\(docs.stdout)")
        let docsReport = try report(4, state: state.path, repo: repo.url)
        #expect((docsReport["notes"] as? [String])?.contains { $0.contains("no new candidate: the model is production's version 2") } == true,
                "\(docsReport["notes"] ?? "")")
    }

    /// Symptom 1: a `sluice.yaml` with an error was silently skipped and recorded as processed.
    @Test func anInvalidSpecSetsSpecValidFalseAndTheFixingCommitRunsWhatItMissed() throws {
        let repo = try ServedRepository()
        try repo.commit("first model", files: Self.files())
        let dir = TemporaryDirectory(prefix: "sluice-controller")
        let (watch, base) = try controller(repo.url, in: dir, settings: ["merge-requests: false"])
        let state = dir.path + "/state", log = dir.path + "/controller.log"
        try waitUntil("the first verdict") { try runs(state, repo.url).first?["verdict"] as? String == "promote" }

        // A typo and a data change in one commit: nothing runs, and everyone can see why.
        let typo = Self.spec.replacingOccurrences(of: "    outputs: [model/]", with: "    outputs: [model/]\n    timout: 5m")
        try repo.commit("typo and new data", files: ["sluice.yaml": typo, "data/d.csv": GateFlowTests.data(5)])
        try waitUntil("SpecValid=False") { try curl(base + "/readyz").contains("iris: Ready=False (InvalidSpec)") }
        let metrics = try curl(base + "/metrics")
        #expect(metrics.contains("sluice_condition{repository=\"iris\",environment=\"\",type=\"SpecValid\",status=\"False\",reason=\"InvalidSpec\"} 1"))
        #expect(try curl(base + "/").contains("unknown key &#39;timout&#39;") || (try curl(base + "/").contains("unknown key 'timout'")))
        let logged = try String(contentsOfFile: log, encoding: .utf8)
        #expect(logged.contains("invalid sluice.yaml: sluice.yaml:"), "\(logged)")
        #expect(logged.contains("unknown key 'timout'"))
        #expect(try runs(state, repo.url).count == 1, "nothing ran for the invalid commit")

        // The fix: the data change of the invalid commit is trained now.
        try repo.commit("fix the typo", files: ["sluice.yaml": Self.spec])
        try waitUntil("the fix's verdict") { try runs(state, repo.url).count == 2 && runs(state, repo.url).first?["verdict"] != nil }
        try waitUntil("Ready=True") { try curl(base + "/readyz").contains("iris: Ready=True") }
        // The replaced condition's series is gone, not left at 0 (one series per condition).
        let fixed = try curl(base + "/metrics")
        #expect(fixed.contains("sluice_condition{repository=\"iris\",environment=\"\",type=\"SpecValid\",status=\"True\""), "\(fixed)")
        #expect(!fixed.contains("reason=\"InvalidSpec\""), "\(fixed)")
        let r = try report(2, state: state, repo: repo.url)
        #expect(stageStatus(r, "train") == "succeeded", "\(r["stages"] ?? "")")
        kill(watch.pid, SIGTERM)
        var status: Int32 = 0
        waitpid(watch.pid, &status, 0)

        // The conditions outlive the controller process: `sluice status` reads them from the state folder.
        let shown = try ProcessRunner.run(sluice, ["status", "--repo", repo.url, "--state", state])
        #expect(shown.stdout.contains("SpecValid=True Valid"), "\(shown.stdout)\n\(shown.stderr)")
        let asJSON = try ProcessRunner.run(sluice, ["status", "--repo", repo.url, "--state", state, "--format", "json"])
        #expect(asJSON.stdout.contains("\"SpecValid\""), "\(asJSON.stdout)")
        let lines = try String(contentsOfFile: log, encoding: .utf8)
        #expect(lines.contains("condition SpecValid=True"), "the change back is logged once")
        #expect(lines.contains("verdict promote"))
    }

    /// Symptom 3: with a gate that cannot be evaluated the controller stored the run as
    /// succeeded, left the merge request pending and logged nothing.
    @Test func aGateErrorInTheControllerFailsClosed() throws {
        let fake = try ForgeFake()
        let repo = try ServedRepository()
        var files = Self.files()
        files["sluice.yaml"] = Self.spec.replacingOccurrences(of: "  model: demo", with: "  model: demo\n  registry: mlflow")
        try repo.commit("model", files: files)
        let head = try repo.commit("candidate", files: ["quality.json": GateFlowTests.quality(0.92)], refs: ["HEAD:refs/pull/1/head"])
        let dir = TemporaryDirectory(prefix: "sluice-controller")
        let (watch, base) = try controller(repo.url, in: dir, settings: [Self.forge(fake)],
                                           environment: ["SLUICE_TEST_FORGE_TOKEN": "forge-token-123456", "MLFLOW_TRACKING_URI": ""])
        let state = dir.path + "/state", log = dir.path + "/controller.log"
        try waitUntil("the merge request's failing status") {
            try fake.statuses("github", commit: head).compactMap { $0["state"] as? String } == ["pending", "failure"]
        }
        try waitUntil("Gated=False") { try curl(base + "/readyz").contains("iris: Ready=False (GateNotEvaluated)") }
        let all = try runs(state, repo.url)
        #expect(all.allSatisfy { $0["verdict"] as? String == "could-not-evaluate" && $0["status"] as? String == "failed" }, "\(all)")
        #expect(all.allSatisfy { ($0["message"] as? String)?.contains("the gate could not be evaluated: gate.registry is mlflow but MLFLOW_TRACKING_URI is not set") == true })
        let logged = try String(contentsOfFile: log, encoding: .utf8)
        #expect(logged.contains("the gate could not be evaluated"), "\(logged)")
        #expect(!logged.contains("forge-token-123456"), "secrets never reach the log")
        let promotions = try ProcessRunner.run(sluice, ["rollback", "--list", "--model", "demo", "--repo", repo.url, "--state", state])
        #expect(promotions.stdout.contains("demo has never been promoted") || promotions.stderr.contains("demo has never been promoted"),
                "nothing was promoted: \(promotions.stdout)\(promotions.stderr)")
        #expect(try fake.violations().isEmpty)
    }
}

extension ReconcilerTests {
    /// A fresh state folder was amnesia: it gated against nothing and promoted whatever came.
    /// Now production is recovered from the repository's promotion record (refs/sluice/promotions).
    @Test func aFreshStateFolderRecoversProductionFromGit() throws {
        let repo = try ServedRepository()
        let first = TemporaryDirectory(prefix: "sluice-state")
        func run(_ state: TemporaryDirectory, _ extra: [String] = []) throws -> ProcessResult {
            try ProcessRunner.run(sluice, ["run", "--repo", repo.url, "--state", state.path] + extra)
        }
        let c1 = try repo.commit("first model", files: Self.files())
        #expect(try run(first).stdout.contains("version 1 is now in production"))
        try repo.commit("better model", files: ["quality.json": GateFlowTests.quality(0.95), "data/d.csv": GateFlowTests.data(1)])
        let better = try run(first)
        #expect(better.stdout.contains("version 2 is now in production"), "\(better.stdout)\n\(better.stderr)")
        let record = try repo.servedGit(["show", "refs/sluice/promotions:promotions.jsonl"])
        #expect(record.split(separator: "\n").count == 2, "each promotion is a line in the pushed record: \(record)")
        #expect(try repo.servedGit(["log", "--format=%s", "refs/sluice/promotions"]).contains("promote demo version 2"))

        // A new replica with an empty state folder: production is version 2, not nothing.
        let fresh = TemporaryDirectory(prefix: "sluice-state")
        let same = try run(fresh)
        #expect(same.status == 0, "\(same.stdout)\n\(same.stderr)")
        #expect(same.stdout.contains("note: production of demo recovered from refs/sluice/promotions: version 2"), "\(same.stdout)")
        #expect(same.stdout.contains("gate: report-only"), "the head is production's own model: \(same.stdout)")
        let log = try ProcessRunner.run(sluice, ["rollback", "--list", "--model", "demo", "--repo", repo.url, "--state", fresh.path])
        #expect(log.stdout.contains("recovered from refs/sluice/promotions"), "\(log.stdout)")

        // A worse candidate is gated against the recovered production (it passes the absolute bound alone).
        try repo.commit("worse model", files: ["quality.json": GateFlowTests.quality(0.85), "data/d.csv": GateFlowTests.data(2)])
        let worse = try run(fresh)
        #expect(worse.status == 1)
        #expect(worse.stdout.contains("gate: reject"), "\(worse.stdout)")

        // And an older commit is never promoted over the newer production.
        let older = TemporaryDirectory(prefix: "sluice-state")
        let old = try run(older, ["--commit", c1])
        #expect(!old.stdout.contains("is now in production"), "\(old.stdout)")
        #expect(old.stdout.contains("gate: reject") || old.stdout.contains("gate: report-only"), "\(old.stdout)")
    }
}

extension ReconcilerTests {
    /// Point 8: a controller tracking `branch: release` (no `gate.branch`) never promoted,
    /// because the gate took the repository's default branch as the production branch.
    @Test func theControllersBranchIsTheProductionBranch() throws {
        let repo = try TestRepository()
        try repo.commit("model", files: Self.files())
        try repo.git(["checkout", "-q", "-b", "release"])
        try repo.commit("release it", files: ["quality.json": GateFlowTests.quality(0.91)])
        try repo.git(["checkout", "-q", "main"])
        let dir = TemporaryDirectory(prefix: "sluice-controller")
        let (watch, _) = try controller(repo.path, in: dir, settings: ["branch: release", "merge-requests: false"])
        try waitUntil("release promoted") { try runs(dir.path + "/state", repo.path).first?["verdict"] as? String == "promote" }
        withExtendedLifetime(watch) {}
    }
}

extension ReconcilerTests {
    /// Point 8: a docs-only commit after a rejected candidate registered the same artifact again
    /// as a new model version, with a new "reject" note.
    @Test func aDocsOnlyCommitAfterARejectionRegistersNothing() throws {
        let repo = try TestRepository()
        let state = TemporaryDirectory(prefix: "sluice-state")
        func run() throws -> ProcessResult { try ProcessRunner.run(sluice, ["run", "--repo", repo.path, "--state", state.path]) }
        try repo.commit("model", files: Self.files())
        #expect(try run().status == 0)
        try repo.commit("worse", files: ["quality.json": GateFlowTests.quality(0.7), "data/d.csv": GateFlowTests.data(4)])
        #expect(try run().stdout.contains("gate: reject"))
        let docs = try repo.commit("docs", files: ["README.md": "docs\n"])
        let again = try run()
        #expect(again.stdout.contains("gate: report-only"), "\(again.stdout)")
        let report = try self.report(3, state: state.path, repo: repo.path)
        #expect((report["notes"] as? [String])?.contains { $0.contains("run 2 already gated this model") && $0.contains("reject") } == true, "\(report["notes"] ?? "")")
        #expect((try? repo.git(["notes", "--ref=sluice", "show", docs])) == nil, "no new note")
    }
}

/// `sluice run` and the controller share a state folder: the head the command line ran to the
/// end is processed, so the controller's first poll does not run it again (it ran an empty
/// report-only run before), and still checks its spec for `Ready`.
@Suite struct SharedStateFolderTests {
    let sluice = RepositoryLayout.sluiceBinary

    @Test func theControllerDoesNotRunAgainTheTipTheCommandLineRan() throws {
        let repo = try TestRepository()
        try repo.commit("pipeline", files: ["sluice.yaml": "version: 1\nstages:\n  hello: { run: \"echo hi\" }\n"])
        let dir = TemporaryDirectory(prefix: "sluice-controller")
        let state = dir.path + "/state"
        let first = try ProcessRunner.run(sluice, ["run", "--repo", repo.path, "--state", state])
        #expect(first.status == 0, "\(first.stderr)")
        let config = dir.write("controller.yaml", "listen: 127.0.0.1:0\ninterval: 1s\nrepositories:\n  - { name: r, url: \(repo.path) }\n")
        let watch = try BackgroundProcess(sluice, ["watch", "--config", config, "--state", state], readyPrefix: "sluice: listening on 127.0.0.1:")
        let base = "http://127.0.0.1:\(watch.readyLine.split(separator: ",")[0])"
        try waitUntil("the repository is Ready") {
            try ProcessRunner.run("curl", ["-s", base + "/readyz"]).stdout.contains("r: Ready=True (Reconciled)")
        }
        // A new commit is still run.
        try repo.commit("more", files: ["README.md": "more\n"])
        try waitUntil("the new commit's run") {
            try ProcessRunner.run(sluice, ["runs", "--repo", repo.path, "--state", state]).stdout.contains("watch: refs/heads/")
        }
        let runs = try ProcessRunner.run(sluice, ["runs", "--repo", repo.path, "--state", state, "--format", "json"])
        let list = try #require(try JSONSerialization.jsonObject(with: Data(runs.stdout.utf8)) as? [[String: Any]])
        #expect(list.count == 2, "one run by the command line, one by the controller for the new commit: \(runs.stdout)")
    }
}

extension SharedStateFolderTests {
    /// A force-push of the production branch is said in the controller's log and the run's plan
    /// notes (the plan compares with the merge base, not the commit that vanished).
    @Test func theControllerSaysWhenHistoryWasRewritten() throws {
        let repo = try TestRepository()
        let first = try repo.commit("pipeline", files: ["sluice.yaml": "version: 1\nstages:\n  hello: { run: \"echo hi\" }\n"])
        try repo.commit("second", files: ["a.txt": "a\n"])
        let dir = TemporaryDirectory(prefix: "sluice-controller")
        let state = dir.path + "/state"
        let log = dir.path + "/controller.log"
        let config = dir.write("controller.yaml", "listen: 127.0.0.1:0\ninterval: 1s\nrepositories:\n  - { name: r, url: \(repo.path) }\n")
        let watch = try BackgroundProcess(sluice, ["watch", "--config", config, "--state", state], readyPrefix: "sluice: listening on 127.0.0.1:",
                                          stderrFile: log)
        try waitUntil("the first run") {
            try ProcessRunner.run(sluice, ["runs", "--repo", repo.path, "--state", state]).stdout.contains("succeeded")
        }
        // Rewrite main: drop "second", commit a sibling.
        try repo.git(["reset", "-q", "--hard", first])
        try repo.commit("sibling", files: ["b.txt": "b\n"])
        try waitUntil("the rewritten history in the log") {
            ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").contains("history of refs/heads/main rewritten (force-push)")
        }
        withExtendedLifetime(watch) {}
    }
}
