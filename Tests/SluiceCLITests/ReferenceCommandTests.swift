import Foundation
import Testing
import SluiceTestSupport

/// The documentation site's reference pages equal what the code generates (a key, flag, metric
/// or condition added without its entry fails here), and `sluice explain` prints an entry or
/// says where it looked.
@Suite struct ReferenceCommandTests {
    let sluice = RepositoryLayout.sluiceBinary

    @Test func theCommittedReferenceIsWhatTheCodeGenerates() throws {
        let check = try ProcessRunner.run(sluice, ["reference", "--check", "docs/content/reference"], cwd: RepositoryLayout.root())
        #expect(check.status == 0, "\(check.stdout)\n\(check.stderr)")
    }

    @Test func checkNamesAStalePage() throws {
        let folder = TemporaryDirectory(prefix: "sluice-reference")
        let wrote = try ProcessRunner.run(sluice, ["reference", folder.path])
        #expect(wrote.status == 0, "\(wrote.stderr)")
        try "# Metrics\n\nnone\n".write(toFile: folder.path + "/metrics.md", atomically: true, encoding: .utf8)
        let check = try ProcessRunner.run(sluice, ["reference", "--check", folder.path])
        #expect(check.status == 1)
        #expect(check.stderr.contains("out of date in \(folder.path): metrics.md"), "\(check.stderr)")
    }

    @Test func explainPrintsAKeyAndRefusesAnUnknownOne() throws {
        let steps = try ProcessRunner.run(sluice, ["explain", "environments.strategy.canary.steps"])
        #expect(steps.status == 0, "\(steps.stderr)")
        #expect(steps.stdout.contains("TYPE:      list of integer"), "\(steps.stdout)")
        #expect(steps.stdout.contains("each at most 100"))

        let top = try ProcessRunner.run(sluice, ["explain"])
        #expect(top.stdout.contains("stages         mapping of <name> to stage"), "\(top.stdout)")

        let wrong = try ProcessRunner.run(sluice, ["explain", "stages.train.neds"])
        #expect(wrong.status == 2)
        #expect(wrong.stderr.contains("did you mean 'needs'?"), "\(wrong.stderr)")
    }
}
