import Foundation
import Testing
import SluiceTestSupport

/// The command line's own contract: exit codes 0/1/2 only, numbers as values, paths resolved.
@Suite struct CommandLineTests {
    let sluice = RepositoryLayout.sluiceBinary

    @Test func usageErrorsExitTwoAndNegativeNumbersAreValues() throws {
        let bogus = try ProcessRunner.run(sluice, ["bogus"])
        #expect(bogus.status == 2, "usage errors are 'could not do the work', not 64")
        #expect(bogus.stderr.contains("Unexpected argument 'bogus'"))
        let jobs = try ProcessRunner.run(sluice, ["run", "--jobs", "-3"])
        #expect(jobs.status == 2)
        #expect(jobs.stderr.contains("--jobs must be 1 or more, got -3"), "\(jobs.stderr)")
        let limit = try ProcessRunner.run(sluice, ["runs", "--limit", "-1"])
        #expect(limit.stderr.contains("--limit must be 1 or more, got -1"), "\(limit.stderr)")
        #expect(try ProcessRunner.run(sluice, ["--version"]).status == 0)
    }

    @Test func aLocatedErrorSaysErrorOnce() throws {
        let dir = TemporaryDirectory(prefix: "sluice-gate")
        let policy = dir.write("p.yaml", "rules:\n  - { metric: a, direction: hgher }\n")
        let metrics = dir.write("m.json", "{\"a\": 1}")
        let r = try ProcessRunner.run(sluice, ["gate", "--candidate", metrics, "--policy", policy])
        #expect(r.status == 2)
        #expect(!r.stderr.contains("error: \(policy)") && r.stderr.contains("sluice: \(policy):2:"), "\(r.stderr)")
    }

    /// A relative `--state ../state` broke `sluice run` at checkout whenever the commit had a subfolder.
    @Test func aRelativeStateFolderWorks() throws {
        let repo = try TestRepository()
        try repo.commit("nested", files: ["sluice.yaml": "version: 1\nstages:\n  hello: { run: cat src/a.txt }\n", "src/a.txt": "nested file\n"])
        let parent = TemporaryDirectory(prefix: "sluice-relative")
        let r = try ProcessRunner.run(sluice, ["run", "--state", "../" + URL(fileURLWithPath: parent.path).lastPathComponent + "/state"],
                                      cwd: repo.path)
        #expect(r.status == 0, "\(r.stdout)\n\(r.stderr)")
        #expect(FileManager.default.fileExists(atPath: parent.path + "/state/sluice.sqlite"))
    }
}
