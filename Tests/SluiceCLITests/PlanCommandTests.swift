import Foundation
import Testing
import SluiceTestSupport

@Suite struct PlanCommandTests {
    let sluice = RepositoryLayout.sluiceBinary

    @Test func plansTheIrisExampleAsText() throws {
        let repo = try TestRepository()
        try ProcessRunner.run("cp", ["-R", RepositoryLayout.root() + "/examples/iris/.", repo.path])
        try repo.commit("iris")
        let state = TemporaryDirectory(prefix: "sluice-state")
        let r = try ProcessRunner.run(sluice, ["plan", "--repo", repo.path, "--state", state.path])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("STAGE"))
        #expect(r.stdout.contains("5 of 5 stages run"))
    }

    @Test func jsonPlanAfterADataChange() throws {
        let repo = try TestRepository()
        try ProcessRunner.run("cp", ["-R", RepositoryLayout.root() + "/examples/iris/.", repo.path])
        try repo.commit("iris")
        repo.write("README.md", "docs only\n")
        try repo.commit("docs")
        let r = try ProcessRunner.run(sluice, ["plan", "--repo", repo.path, "--format", "json"])
        #expect(r.status == 0, "\(r.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let plan = try #require(json["plan"] as? [String: Any])
        let stages = try #require(plan["stages"] as? [[String: Any]])
        let decisions = Dictionary(uniqueKeysWithValues: stages.map { ($0["name"] as! String, $0["decision"] as! String) })
        // test has no 'when': it runs on every commit and pulls in lint; training is untouched.
        #expect(decisions == ["lint": "run", "test": "run", "validate": "skip", "train": "skip", "evaluate": "skip"])
    }

    /// `sluice plan` said "run" for a stage the run then restored from the cache: with runs in
    /// the state folder it plans as the run will.
    @Test func planShowsTheCacheHitsTheRunWillHave() throws {
        let repo = try TestRepository()
        try repo.commit("pipeline", files: [
            "sluice.yaml": "version: 1\nstages:\n  lint: { run: \"echo ok > lint.txt\", when: { paths: [\"src/**\"] }, outputs: [lint.txt] }\n  test: { run: \"true\", needs: [lint] }\n",
            "src/a.py": "x = 1\n",
        ])
        let state = TemporaryDirectory(prefix: "sluice-state")
        #expect(try ProcessRunner.run(sluice, ["run", "--repo", repo.path, "--state", state.path]).status == 0)
        try repo.commit("docs", files: ["README.md": "docs\n"])
        let plan = try ProcessRunner.run(sluice, ["plan", "--repo", repo.path, "--state", state.path])
        #expect(plan.status == 0, "\(plan.stderr)")
        let lint = plan.stdout.split(separator: "\n").first { $0.hasPrefix("lint") }.map(String.init) ?? ""
        #expect(lint.contains("cached") && lint.contains("needed by test") && lint.contains("cache hit"), "\(plan.stdout)")
        let run = try ProcessRunner.run(sluice, ["run", "--repo", repo.path, "--state", state.path])
        #expect(run.stdout.contains("lint: cached"), "\(run.stdout)")
    }

    @Test func unreachableRemoteExitsTwoNamingTheURL() throws {
        let url = "git://127.0.0.1:\(try FreePort.next())/gone.git"
        let state = TemporaryDirectory(prefix: "sluice-state")
        let r = try ProcessRunner.run(sluice, ["plan", "--repo", url, "--state", state.path])
        #expect(r.status == 2)
        #expect(r.stderr.contains(url))
    }

    @Test func tokenIsNeverPrinted() throws {
        let url = "http://127.0.0.1:\(try FreePort.next())/private.git"
        let state = TemporaryDirectory(prefix: "sluice-state")
        let r = try ProcessRunner.run(sluice, ["plan", "--repo", url, "--state", state.path],
                                      environment: ["SLUICE_GIT_TOKEN": "s3cr3t-t0ken-value"])
        #expect(r.status == 2)
        #expect(!r.stderr.contains("s3cr3t-t0ken-value"))
        #expect(!r.stdout.contains("s3cr3t-t0ken-value"))
    }
}

@Suite struct PlanRefCommandTests {
    @Test func planningARefThatDoesNotExistExitsTwo() throws {
        let repo = try TestRepository()
        try repo.commit("one", files: ["f": "1"])
        let state = TemporaryDirectory(prefix: "sluice-state")
        let r = try ProcessRunner.run(RepositoryLayout.sluiceBinary, ["plan", "--repo", repo.path, "--state", state.path, "--ref", "nope"])
        #expect(r.status == 2)
        #expect(r.stderr.contains("refs/heads/nope"))
    }

    @Test func planningANewRefPlansItsHead() throws {
        let repo = try TestRepository()
        try ProcessRunner.run("cp", ["-R", RepositoryLayout.root() + "/examples/iris/.", repo.path])
        try repo.commit("iris")
        let state = TemporaryDirectory(prefix: "sluice-state")
        let r = try ProcessRunner.run(RepositoryLayout.sluiceBinary, ["plan", "--repo", repo.path, "--state", state.path, "--ref", "main"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("first commit on this ref"))
    }
}
