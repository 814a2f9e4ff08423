import Foundation
import Testing
import SluiceTestSupport

/// `--format json` on every command that prints, and `last` scoped by `--repo`.
@Suite struct OutputFormatTests {
    let sluice = RepositoryLayout.sluiceBinary

    func json(_ r: ProcessResult) -> Any? { try? JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) }

    @Test func everyCommandThatPrintsSpeaksJSON() throws {
        let a = try DeployTests().repository()
        let b = try TestRepository()
        try b.commit("other", files: ["sluice.yaml": "version: 1\nstages:\n  hello: { run: echo hello from b }\n"])
        let state = TemporaryDirectory(prefix: "sluice-state")
        func sluice(_ args: [String], repo: TestRepository) throws -> ProcessResult {
            try ProcessRunner.run(self.sluice, args + ["--repo", repo.path, "--state", state.path])
        }
        #expect(try sluice(["run"], repo: a).status == 0)
        try a.commit("better", files: ["quality.json": GateFlowTests.quality(0.95)])
        #expect(try sluice(["run"], repo: a).status == 0)
        #expect(try sluice(["run"], repo: b).status == 0)

        // `last` is the newest run of --repo, not of any repository.
        let report = json(try sluice(["report", "last", "--format", "json"], repo: a)) as? [String: Any]
        #expect(report?["run"] as? Int == 2, "\(report ?? [:])")
        let logs = try sluice(["logs", "last", "--format", "json"], repo: b)
        let lines = logs.stdout.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: String] }
        #expect(!lines.isEmpty && lines.allSatisfy { $0["run"] == "3" && $0["stage"] == "hello" }, "\(logs.stdout)")
        #expect(lines.contains { $0["line"]?.contains("hello from b") == true })

        let status = json(try sluice(["status", "--format", "json"], repo: a)) as? [String: Any]
        #expect(status?["production"] as? String == "2")
        #expect((status?["environment"] as? [String: Any])?["inSync"] as? Bool == true)
        let diff = json(try sluice(["diff", "--format", "json"], repo: a)) as? [String: Any]
        #expect(diff?["inSync"] as? Bool == true)
        let deploy = json(try sluice(["deploy", "--dry-run", "--format", "json"], repo: a)) as? [String: Any]
        #expect(deploy?["version"] as? String == "2" && deploy?["dryRun"] as? Bool == true)
        let back = json(try sluice(["rollback", "--reason", "test", "--format", "json"], repo: a)) as? [String: Any]
        #expect((back?["entry"] as? [String: Any])?["version"] as? String == "1", "\(back ?? [:])")
        #expect((back?["deployment"] as? [String: Any])?["branch"] as? String == "sluice/env/staging")
        let forward = json(try sluice(["promote", "2", "--reason", "test", "--format", "json"], repo: a)) as? [String: Any]
        #expect((forward?["entry"] as? [String: Any])?["action"] as? String == "promote")
        let list = json(try sluice(["rollback", "--list", "--format", "json"], repo: a)) as? [[String: Any]]
        #expect(list?.count == 4)
        let runs = json(try sluice(["runs", "--format", "json"], repo: a)) as? [[String: Any]]
        #expect(runs?.compactMap { ($0["run"] as? [String: Any])?["verdict"] as? String } == ["promote", "promote"])
    }
}
