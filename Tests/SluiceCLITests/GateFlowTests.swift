import Foundation
import Testing
import SluiceTestSupport

/// The end-to-end gate flow: promote with no baseline, reject a worse model with a report
/// that says why, promote a better one; the promotion log and git notes show it all.
@Suite struct GateFlowTests {
    let sluice = RepositoryLayout.sluiceBinary

    public static let spec = """
        version: 1
        datasets:
          d: { path: data/d.csv }
        stages:
          validate:
            uses: validate-data
            with: { data: data/d.csv, schema: schemas/d.yaml }
          train:
            run: [sh, -c, "mkdir -p model && cp data/d.csv model/weights.csv"]
            needs: [validate]
            outputs: [model/]
          evaluate:
            run: [sh, -c, "cp quality.json metrics.json"]
            needs: [train]
            metrics: metrics.json
        gate:
          policy: policies/p.yaml
          model: demo
        """

    static let policy = """
        rules:
          - metric: accuracy
            direction: higher
            min: 0.8
            vs-production:
              tolerance: 0.01
          - metric: f1
            direction: higher
            slices: all
            min: 0.5
        """

    static func data(_ shift: Int) -> String {
        "x,kind\n" + (0..<200).map { "\(($0 * 7 + shift) % 100),\($0 % 3 == 0 ? "a" : "b")" }.joined(separator: "\n") + "\n"
    }

    static func quality(_ accuracy: Double) -> String {
        "{\"accuracy\": \(accuracy), \"f1\": \(accuracy - 0.05), \"slices\": {\"kind=a\": {\"f1\": 0.7}, \"kind=b\": {\"f1\": 0.9}}}"
    }

    func run(_ repo: TestRepository, _ state: TemporaryDirectory, _ extra: [String] = []) throws -> ProcessResult {
        try ProcessRunner.run(sluice, ["run", "--repo", repo.path, "--state", state.path] + extra)
    }

    @Test func promoteRejectPromoteThenRollBack() throws {
        let repo = try TestRepository()
        let state = TemporaryDirectory(prefix: "sluice-state")
        let c1 = try repo.commit("first model", files: [
            "sluice.yaml": Self.spec, "policies/p.yaml": Self.policy, "data/d.csv": Self.data(0),
            "schemas/d.yaml": "columns:\n  x: { type: integer }\n  kind: { type: string }\n", "quality.json": Self.quality(0.9),
        ])
        let first = try run(repo, state)
        #expect(first.status == 0, "\(first.stdout)\n\(first.stderr)")
        #expect(first.stdout.contains("gate: promote (all rules passed), model demo version 1 is now in production"))

        // Commit 2: the data changes and the model gets worse than production by more than the tolerance.
        let c2 = try repo.commit("data change, worse model", files: ["data/d.csv": Self.data(40), "quality.json": Self.quality(0.85)])
        let second = try run(repo, state)
        #expect(second.status == 1)
        #expect(second.stdout.contains("gate: reject (1 rule failed)"))
        #expect(second.stdout.contains("accuracy: worse than production by 0.05, more than the tolerance 0.01"))
        let report = try ProcessRunner.run(sluice, ["report", "last", "--state", state.path])
        #expect(report.status == 1)
        #expect(report.stdout.contains("## Sluice gate: ❌ reject"))
        #expect(report.stdout.contains("| ❌ | accuracy | 0.85 | 0.90 | -0.05 | higher is better; ≥ 0.8; at most 0.01 worse than production |"))
        #expect(report.stdout.contains("Drift against data/d.csv of the production model"), "drift is measured against the production model's data")
        #expect(report.stdout.contains("| f1 [kind=a] |"))

        // Commit 3: a better model is promoted.
        let c3 = try repo.commit("better model", files: ["quality.json": Self.quality(0.95)])
        let third = try run(repo, state)
        #expect(third.status == 0, "\(third.stdout)\n\(third.stderr)")
        #expect(third.stdout.contains("model demo version 3 is now in production"))

        // The log holds the two promotions; the notes hold all three verdicts.
        let log = try ProcessRunner.run(sluice, ["rollback", "--list", "--repo", repo.path, "--state", state.path])
        let lines = log.stdout.split(separator: "\n")
        #expect(lines.count == 2)
        #expect(lines[0].contains("promote  version 1  (from none)  commit \(c1.prefix(12))"))
        #expect(lines[1].contains("promote  version 3  (from 1)  commit \(c3.prefix(12))"))
        #expect(try repo.git(["notes", "--ref=sluice", "show", c1]).hasPrefix("sluice gate: promote — model demo version 1"))
        #expect(try repo.git(["notes", "--ref=sluice", "show", c2]).hasPrefix("sluice gate: reject — model demo version 2"))
        #expect(try repo.git(["notes", "--ref=sluice", "show", c3]).hasPrefix("sluice gate: promote — model demo version 3"))
        #expect(try repo.git(["log", "--notes=sluice", "-1", c2]).contains("FAIL accuracy = 0.85 (production 0.9)"))

        // The standalone gate reads production from the same registry.
        let scratch = TemporaryDirectory()
        let candidate = scratch.write("m.json", Self.quality(0.93))
        let standalone = try ProcessRunner.run(sluice, ["gate", "--candidate", candidate, "--policy", repo.path + "/policies/p.yaml",
                                                        "--model", "demo", "--state", state.path])
        #expect(standalone.status == 1, "0.93 is 0.02 below production's 0.95")
        #expect(standalone.stdout.contains("Production: version 3."))

        // Roll back to version 1, with a reason; the log grows, nothing is rewritten.
        let back = try ProcessRunner.run(sluice, ["rollback", "--reason", "latency regression", "--actor", "alice", "--repo", repo.path, "--state", state.path])
        #expect(back.status == 0, "\(back.stderr)")
        #expect(back.stdout.contains("demo rolled back to version 1 (from 3); logged: latency regression"))
        let after = try ProcessRunner.run(sluice, ["rollback", "--list", "--repo", repo.path, "--state", state.path, "--format", "json"])
        let entries = try #require(try JSONSerialization.jsonObject(with: Data(after.stdout.utf8)) as? [[String: Any]])
        #expect(entries.map { $0["action"] as? String } == ["promote", "promote", "rollback"])
        #expect(entries.last?["actor"] as? String == "alice")
        #expect(try repo.git(["notes", "--ref=sluice", "show", c1]).contains("sluice rollback — model demo back to version 1 (from 3) by alice: latency regression"))

        // A manual promotion of run 2's rejected candidate is possible, and recorded as such.
        let manual = try ProcessRunner.run(sluice, ["promote", "2", "--reason", "accepted trade-off", "--actor", "bob", "--repo", repo.path, "--state", state.path])
        #expect(manual.status == 0, "\(manual.stderr)")
        #expect(manual.stdout.contains("demo version 2 is in production (was 1)"))
    }

    @Test func otherBranchesGetAReportButNeverPromote() throws {
        let repo = try TestRepository()
        let state = TemporaryDirectory(prefix: "sluice-state")
        try repo.commit("first", files: [
            "sluice.yaml": Self.spec, "policies/p.yaml": Self.policy, "data/d.csv": Self.data(0),
            "schemas/d.yaml": "columns:\n  x: { type: integer }\n  kind: { type: string }\n", "quality.json": Self.quality(0.9),
        ])
        try repo.git(["checkout", "-q", "-b", "feature"])
        let head = try repo.commit("feature work", files: ["quality.json": Self.quality(0.91)])
        let r = try run(repo, state, ["--ref", "feature"])
        #expect(r.status == 0, "\(r.stdout)\n\(r.stderr)")
        #expect(r.stdout.contains("gate: report-only (all rules passed)"))
        let log = try ProcessRunner.run(sluice, ["rollback", "--list", "--repo", repo.path, "--state", state.path])
        #expect(log.stdout.contains("demo has never been promoted"))
        #expect((try? repo.git(["notes", "--ref=sluice", "show", head])) == nil)
        let report = try ProcessRunner.run(sluice, ["report", "last", "--state", state.path])
        #expect(report.stdout.contains("✅ would promote (report only)"))
    }

    @Test func standaloneGateInAnyCI() throws {
        let dir = TemporaryDirectory()
        let policy = dir.write("p.yaml", Self.policy)
        let good = dir.write("good.json", Self.quality(0.9))
        let worse = dir.write("worse.json", Self.quality(0.85))
        let pass = try ProcessRunner.run(sluice, ["gate", "--candidate", good, "--policy", policy])
        #expect(pass.status == 0, "\(pass.stdout)\(pass.stderr)")
        #expect(pass.stdout.contains("No model in production yet: only absolute bounds apply."))
        // Without --model there is no model: the report does not name one after the file.
        #expect(pass.stdout.contains("Candidate metrics judged under policy"), "\(pass.stdout)")
        #expect(!pass.stdout.contains("good.json**"))
        let reject = try ProcessRunner.run(sluice, ["gate", "--candidate", worse, "--policy", policy, "--production", good])
        #expect(reject.status == 1)
        #expect(reject.stdout.contains("worse than production by 0.05"))
        let bad = dir.write("bad.json", "{\"accuracy\": \"high\"}")
        let invalid = try ProcessRunner.run(sluice, ["gate", "--candidate", bad, "--policy", policy])
        #expect(invalid.status == 2)
        #expect(invalid.stderr.contains("bad.json:1:14: error: metric 'accuracy' must be a number, found 'high'"))
        let badPolicy = dir.write("bp.yaml", "rules:\n  - metric: accuracy\n    direction: up\n")
        let policyError = try ProcessRunner.run(sluice, ["gate", "--candidate", good, "--policy", badPolicy])
        #expect(policyError.status == 2)
        #expect(policyError.stderr.contains("bp.yaml:3:16: error: unknown direction 'up' for 'accuracy'"))
    }
}

@Suite struct GateValidationAndRenderingTests {
    let sluice = RepositoryLayout.sluiceBinary

    @Test func validateChecksThePolicyAndTheMetricsItJudges() throws {
        let dir = TemporaryDirectory()
        dir.write("sluice.yaml", """
            version: 1
            stages:
              evaluate: { run: "true", metrics: metrics.json }
            gate: { policy: policies/p.yaml }
            """)
        dir.write("policies/p.yaml", "rules:\n  - metric: acuracy\n    direction: higher\n    min: 0.8\n")
        dir.write("metrics.json", "{\"accuracy\": 0.9}")
        let warned = try ProcessRunner.run(sluice, ["validate", dir.path])
        #expect(warned.status == 0)
        #expect(warned.stdout.contains("policies/p.yaml:2:13: warning: no stage's metrics file has 'acuracy' (metrics.json has: accuracy); did you mean 'accuracy'?"))

        dir.write("policies/p.yaml", "rules:\n  - metric: accuracy\n    direction: upward\n")
        let broken = try ProcessRunner.run(sluice, ["validate", dir.path])
        #expect(broken.status == 1)
        #expect(broken.stdout.contains("policies/p.yaml:3:16: error: unknown direction 'upward' for 'accuracy'"))

        dir.write("sluice.yaml", "version: 1\nstages:\n  train: { run: \"true\" }\ngate: { policy: policies/p.yaml }\n")
        dir.write("policies/p.yaml", "rules:\n  - metric: accuracy\n    direction: higher\n")
        let noMetrics = try ProcessRunner.run(sluice, ["validate", dir.path])
        #expect(noMetrics.status == 1)
        #expect(noMetrics.stdout.contains("but no stage declares 'metrics:'"))
    }

    @Test func theShippedPoliciesAreValid() throws {
        let dir = TemporaryDirectory()
        for name in ["classification.yaml", "regression.yaml"] {
            let text = try String(contentsOfFile: RepositoryLayout.root() + "/policies/" + name, encoding: .utf8)
            dir.write("policies/" + name, text)
            dir.write("sluice.yaml", "version: 1\nstages:\n  evaluate: { run: \"true\", metrics: m.json }\ngate: { policy: policies/\(name) }\n")
            let r = try ProcessRunner.run(sluice, ["validate", dir.path])
            #expect(r.status == 0, "\(name): \(r.stdout)")
        }
    }

    /// The report must render on GitHub/GitLab: checked with a real CommonMark renderer with
    /// GFM tables (markdown-it-py), and it must need no raw HTML.
    @Test func theGateReportRendersAsTablesWithoutRawHTML() throws {
        let dir = TemporaryDirectory()
        let policy = dir.write("p.yaml", "rules:\n  - metric: accuracy\n    direction: higher\n    min: 0.8\n    vs-production: { tolerance: 1% }\n  - metric: f1\n    direction: higher\n    slices: all\n")
        let candidate = dir.write("c.json", "{\"accuracy\": 0.91, \"f1\": 0.8, \"slices\": {\"region=<eu|us>\": {\"f1\": 0.7}}}")
        let production = dir.write("p.json", "{\"accuracy\": 0.9, \"f1\": 0.82}")
        let r = try ProcessRunner.run(sluice, ["gate", "--candidate", candidate, "--policy", policy, "--production", production])
        #expect(r.status == 0, "\(r.stderr)")
        let markdown = dir.write("report.md", r.stdout)
        let check = try ProcessRunner.run("python3", ["-c", """
            import sys
            from markdown_it import MarkdownIt
            source = open(sys.argv[1]).read()
            tokens = MarkdownIt("commonmark").enable("table").parse(source)
            html_blocks = [t for t in tokens if t.type in ("html_block", "html_inline") and "sluice-gate-report" not in t.content]
            tables = sum(1 for t in tokens if t.type == "table_open")
            rows = sum(1 for t in tokens if t.type == "tr_open")
            print(tables, rows, len(html_blocks))
            """, markdown])
        #expect(check.status == 0, "\(check.stderr)")
        // One metrics table: header + accuracy + f1 + one slice row; no raw HTML apart from the marker.
        #expect(check.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "1 4 0")
        #expect(r.stdout.contains("region=&lt;eu\\|us&gt;"))
    }
}

@Suite struct GateEdgeTests {
    let sluice = RepositoryLayout.sluiceBinary

    func repository() throws -> TestRepository {
        let repo = try TestRepository()
        try repo.commit("first model", files: [
            "sluice.yaml": GateFlowTests.spec, "policies/p.yaml": GateFlowTests.policy, "data/d.csv": GateFlowTests.data(0),
            "schemas/d.yaml": "columns:\n  x: { type: integer }\n  kind: { type: string }\n", "quality.json": GateFlowTests.quality(0.9),
        ])
        return repo
    }

    /// Two candidates finishing out of order: the older commit may not replace the newer one.
    @Test func anOlderCommitFinishingLateIsSuperseded() throws {
        let repo = try repository()
        let state = TemporaryDirectory(prefix: "sluice-state")
        let older = try repo.commit("older", files: ["quality.json": GateFlowTests.quality(0.93)])
        let newer = try repo.commit("newer", files: ["quality.json": GateFlowTests.quality(0.92)])
        let n = try ProcessRunner.run(sluice, ["run", "--repo", repo.path, "--state", state.path, "--commit", newer])
        #expect(n.status == 0, "\(n.stdout)\n\(n.stderr)")
        let o = try ProcessRunner.run(sluice, ["run", "--repo", repo.path, "--state", state.path, "--commit", older, "--ref", "main"])
        #expect(o.status == 0, "it passes the rules, but is not promoted\n\(o.stdout)\n\(o.stderr)")
        #expect(o.stdout.contains("gate: reject (all rules passed)"))
        let report = try ProcessRunner.run(sluice, ["report", "last", "--state", state.path])
        #expect(report.stdout.contains("superseded: production already holds version 1 from the newer commit \(newer.prefix(12))"))
        let log = try ProcessRunner.run(sluice, ["rollback", "--list", "--repo", repo.path, "--state", state.path])
        #expect(log.stdout.split(separator: "\n").count == 1)
    }

    /// A remote repository (a bare one, as on a server): the notes are pushed back with libgit2.
    @Test func notesArePushedToARemoteRepository() throws {
        let repo = try repository()
        let head = try repo.git(["rev-parse", "HEAD"])
        let server = TemporaryDirectory(prefix: "sluice-remote")
        try ProcessRunner.run("git", ["clone", "-q", "--bare", repo.path, server.path + "/demo.git"])
        let state = TemporaryDirectory(prefix: "sluice-state")
        let r = try ProcessRunner.run(sluice, ["run", "--repo", "file://" + server.path + "/demo.git", "--state", state.path])
        #expect(r.status == 0, "\(r.stdout)\n\(r.stderr)")
        #expect(!r.stderr.contains("warning"), "\(r.stderr)")
        let note = try ProcessRunner.run("git", ["--git-dir", server.path + "/demo.git", "notes", "--ref=sluice", "show", head])
        #expect(note.stdout.hasPrefix("sluice gate: promote — model demo version 1"), "\(note.stderr)")
    }

    @Test func aMetricsFileThatIsNotJSONOrYAMLStopsTheGateWithItsLocation() throws {
        let repo = try TestRepository()
        try repo.commit("broken metrics", files: [
            "sluice.yaml": GateFlowTests.spec, "policies/p.yaml": GateFlowTests.policy, "data/d.csv": GateFlowTests.data(0),
            "schemas/d.yaml": "columns:\n  x: { type: integer }\n  kind: { type: string }\n", "quality.json": "{\"accuracy\": [0.9",
        ])
        let state = TemporaryDirectory(prefix: "sluice-state")
        let r = try ProcessRunner.run(sluice, ["run", "--repo", repo.path, "--state", state.path])
        #expect(r.status == 1)
        #expect(r.stdout.contains("evaluate: failed"))
        #expect(r.stdout.contains("metrics file is not valid JSON or YAML: metrics.json:2:1: error: while parsing a flow sequence"))
    }
}
