import Foundation
import Testing
import SluiceTestSupport

/// A policy is an input of the gate: the same model gated under a changed policy is gated again,
/// and the registry never holds the same model (artifact and metrics) twice, whether the gate
/// or an operator's `sluice promote` puts it forward.
@Suite struct PolicyChangeTests {
    let sluice = RepositoryLayout.sluiceBinary

    func run(_ repo: TestRepository, _ state: TemporaryDirectory) throws -> ProcessResult {
        try ProcessRunner.run(sluice, ["run", "--repo", repo.path, "--state", state.path])
    }

    /// The versions the registry holds, from the run store.
    func versions(_ state: TemporaryDirectory) throws -> [String] {
        let r = try ProcessRunner.run("python3", ["-c", """
            import sqlite3, sys
            db = sqlite3.connect(sys.argv[1])
            print(" ".join(v for (v,) in db.execute("SELECT version FROM model_versions WHERE model = 'demo' ORDER BY createdAt")))
            """, state.path + "/sluice.sqlite"])
        return r.stdout.split(separator: " ").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty }
    }

    func rejectedSecondModel() throws -> (TestRepository, TemporaryDirectory) {
        let repo = try TestRepository()
        let state = TemporaryDirectory(prefix: "sluice-state")
        try repo.commit("first model", files: [
            "sluice.yaml": GateFlowTests.spec, "policies/p.yaml": GateFlowTests.policy, "data/d.csv": GateFlowTests.data(0),
            "schemas/d.yaml": "columns:\n  x: { type: integer }\n  kind: { type: string }\n", "quality.json": GateFlowTests.quality(0.9),
        ])
        #expect(try run(repo, state).status == 0)
        try repo.commit("worse model", files: ["data/d.csv": GateFlowTests.data(40), "quality.json": GateFlowTests.quality(0.85)])
        let second = try run(repo, state)
        #expect(second.stdout.contains("gate: reject (1 rule failed)"), "\(second.stdout)")
        #expect(try versions(state) == ["1", "2"])
        return (repo, state)
    }

    @Test func aLoosenedPolicyGatesTheSameModelAgainAndPromotesItsVersion() throws {
        let (repo, state) = try rejectedSecondModel()
        let loosened = GateFlowTests.policy.replacingOccurrences(of: "tolerance: 0.01", with: "tolerance: 0.1")
        try repo.commit("accept a larger drop", files: ["policies/p.yaml": loosened])
        let third = try run(repo, state)
        #expect(third.status == 0, "\(third.stdout)\n\(third.stderr)")
        #expect(third.stdout.contains("model demo version 2 is now in production"), "\(third.stdout)")
        #expect(try versions(state) == ["1", "2"], "the model of run 2 keeps its version")
        let report = try ProcessRunner.run(sluice, ["report", "last", "--state", state.path])
        #expect(report.stdout.contains("registered already as version 2"), "\(report.stdout)")

        // The same policy again: nothing new to gate.
        try repo.commit("docs", files: ["NOTES.md": "why we accepted it\n"])
        let fourth = try run(repo, state)
        #expect(fourth.stdout.contains("gate: report-only"), "\(fourth.stdout)")
    }

    @Test func promotingAReportOnlyRunOfAGatedModelPromotesItsVersion() throws {
        let (repo, state) = try rejectedSecondModel()
        try repo.commit("docs", files: ["NOTES.md": "nothing to do with the model\n"])
        let third = try run(repo, state)
        #expect(third.stdout.contains("gate: report-only"), "\(third.stdout)")
        #expect(third.stdout.contains("already gated this model"), "\(third.stdout)")
        let promote = try ProcessRunner.run(sluice, ["promote", "3", "--reason", "accepted trade-off", "--repo", repo.path, "--state", state.path])
        #expect(promote.status == 0, "\(promote.stderr)")
        #expect(promote.stdout.contains("demo version 2 is in production (was 1)"), "\(promote.stdout)")
        #expect(try versions(state) == ["1", "2"], "no second version of the same artifact")
    }
}
