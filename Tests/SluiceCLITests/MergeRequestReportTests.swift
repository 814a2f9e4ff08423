import Foundation
import Testing
import SluiceTestSupport

/// Merge-request reports reviewers can rely on (issue: "merge-request reports"): each test is one
/// thing a reviewer hit, against the forge fake (GitHub's and GitLab's documented shapes).
@Suite struct MergeRequestReportTests {
    let sluice = RepositoryLayout.sluiceBinary

    func run(_ repo: TestRepository, _ state: TemporaryDirectory, _ fake: ForgeFake, forge: String = "github", ref: String = "refs/pull/7/head",
             token: String = "secret-token-1234") throws -> ProcessResult {
        try ProcessRunner.run(sluice, ["run", "--repo", repo.path, "--state", state.path, "--ref", ref], environment: [
            "SLUICE_FORGE": forge, "SLUICE_FORGE_API": fake.api(forge), "SLUICE_FORGE_PROJECT": forge == "gitlab" ? "acme/ml/iris" : "acme/iris",
            "SLUICE_FORGE_TOKEN": token, "SLUICE_ADVERTISE_URL": "https://sluice.example.com/",
        ])
    }

    func comment(_ fake: ForgeFake, _ forge: String = "github") throws -> String {
        try fake.comments(forge, mergeRequest: 7).first?["body"] as? String ?? ""
    }

    /// A failed pipeline's comment names the failed stage, its exit code and the last lines of
    /// its log, and links to the run page (SLUICE_ADVERTISE_URL).
    @Test func aFailedPipelinesCommentSaysWhatFailed() throws {
        let fake = try ForgeFake()
        let repo = try TestRepository()
        let head = try repo.commit("broken", files: ["sluice.yaml": "version: 1\nstages:\n  test:\n    run: \"echo collecting; echo 'AssertionError: expected 3 got 4' >&2; exit 3\"\n"])
        let state = TemporaryDirectory(prefix: "sluice-state")
        #expect(try run(repo, state, fake).status == 1)
        let body = try comment(fake)
        #expect(body.contains("❌ pipeline failed") && body.contains("[run 1](https://sluice.example.com/runs/1)"), "\(body)")
        #expect(body.contains("**Stage `test` failed: exited with code 3**") && body.contains("err AssertionError: expected 3 got 4"), "\(body)")
        let status = try fake.statuses("github", commit: head).last
        #expect(status?["description"] as? String == "Pipeline failed: test: failed: exited with code 3")
        #expect(status?["target_url"] as? String == "https://sluice.example.com/runs/1")
    }

    /// A policy that cannot be read is a "could not evaluate" comment with the located error and
    /// a failing status, not a pending status for ever.
    @Test func aPolicyErrorIsSaidInTheCommentAndTheStatusFails() throws {
        let fake = try ForgeFake()
        let repo = try TestRepository()
        let head = try repo.commit("typo in the policy", files: [
            "sluice.yaml": "version: 1\nstages:\n  evaluate: { run: \"echo '{\\\"accuracy\\\": 0.9}' > m.json\", metrics: m.json }\ngate: { policy: policies/p.yaml }\n",
            "policies/p.yaml": "rules:\n  - metric: accuracy\n    direction: hgher\n",
        ])
        let state = TemporaryDirectory(prefix: "sluice-state")
        let r = try run(repo, state, fake)
        #expect(r.status != 0)
        let body = try comment(fake)
        #expect(body.contains("## Sluice gate: ⚠️ could not evaluate") && body.contains("policies/p.yaml:3:16") && body.contains("hgher"), "\(body)")
        let states = try fake.statuses("github", commit: head).compactMap { $0["state"] as? String }
        #expect(states == ["pending", "failure"], "\(states)")
        #expect((try fake.statuses("github", commit: head).last?["description"] as? String)?.hasPrefix("Gate could not be evaluated") == true)
    }

    /// 800 slices make a report longer than GitHub accepts (65,536 characters): it is shortened
    /// (passed slices first), keeps the verdict and every failing rule, and links to the full report.
    @Test func aReportTooLongForTheForgeIsShortened() throws {
        let fake = try ForgeFake()
        let repo = try TestRepository()
        var classes: [String] = []
        for i in 0..<800 { classes.append("\"class-\(i)\": {\"recall\": \(i == 5 ? 0.2 : 0.9)}") }
        let metrics = "{\"accuracy\": 0.9, \"slices\": {" + classes.joined(separator: ", ") + "}}"
        try repo.commit("many classes", files: [
            "sluice.yaml": "version: 1\nstages:\n  evaluate: { run: \"cp metrics.src m.json\", metrics: m.json }\ngate: { policy: policies/p.yaml }\n",
            "metrics.src": metrics,
            "policies/p.yaml": "rules:\n  - { metric: accuracy, direction: higher, min: 0.8 }\n  - { metric: recall, direction: higher, min: 0.5, slices: all }\n",
        ])
        let state = TemporaryDirectory(prefix: "sluice-state")
        let r = try run(repo, state, fake)
        #expect(!r.stderr.contains("too long"), "\(r.stderr)")
        let body = try comment(fake)
        #expect(!body.isEmpty && body.count <= 65_536, "\(body.count) characters")
        #expect(body.contains("would be rejected") && body.contains("recall [class-5]") && !body.contains("recall [class-6]"), "\(body.prefix(3000))")
        #expect(body.contains("Shortened to fit the comment limit: slices that passed left out") && body.contains("https://sluice.example.com/runs/1"))
        #expect(try fake.violations() == [])
    }

    /// A wrong or expired token under `sluice watch` is not silent: a log line, a counter by
    /// forge and code, the `Reported` condition, and a line on the run page.
    @Test func forgeErrorsUnderTheControllerAreReported() throws {
        let fake = try ForgeFake()
        let repo = try TestRepository()
        try repo.commit("first", files: ["sluice.yaml": "version: 1\nstages:\n  hello: { run: \"echo hello\" }\n"])
        try repo.git(["update-ref", "refs/pull/7/head", "HEAD"])
        let dir = TemporaryDirectory(prefix: "sluice-controller")
        let config = dir.write("controller.yaml", """
            listen: 127.0.0.1:0
            interval: 1s
            repositories:
              - name: iris
                url: \(repo.path)
                forge: { kind: github, project: acme/iris, api: \(fake.api("github")), token-env: SLUICE_TEST_FORGE_TOKEN }

            """)
        let watch = try BackgroundProcess(sluice, ["watch", "--config", config, "--state", dir.path + "/state"], readyPrefix: "sluice: listening on 127.0.0.1:",
                                          environment: ["SLUICE_TEST_FORGE_TOKEN": "expired-token-0042"], stderrFile: dir.path + "/controller.log")
        let base = "http://127.0.0.1:\(watch.readyLine.split(separator: ",")[0])"
        func metrics() throws -> String { try ProcessRunner.run("curl", ["-s", base + "/metrics"]).stdout }
        try waitUntil("the forge error is counted") {
            try metrics().split(separator: "\n").contains { $0.hasPrefix("sluice_forge_errors_total{") && $0.contains("code=\"401\"") && $0.contains("forge=\"GitHub\"") }
        }
        let log = try String(contentsOfFile: dir.path + "/controller.log", encoding: .utf8)
        #expect(log.contains("pull request #7 on GitHub") && log.contains("answered 401") && log.contains("the token is invalid or has expired"), "\(log)")
        let status = try ProcessRunner.run(sluice, ["status", "--repo", repo.path, "--state", dir.path + "/state"]).stdout
        #expect(status.contains("Reported=False ForgeUnauthorized"), "\(status)")
        let runs = try ProcessRunner.run(sluice, ["runs", "--repo", repo.path, "--state", dir.path + "/state", "--format", "json"]).stdout
        let ids = ((try? JSONSerialization.jsonObject(with: Data(runs.utf8))) as? [[String: Any]] ?? [])
            .compactMap { $0["run"] as? [String: Any] }.filter { $0["ref"] as? String == "refs/pull/7/head" }.compactMap { $0["id"] as? Int }
        let page = try ProcessRunner.run("curl", ["-s", base + "/runs/\(try #require(ids.first))"]).stdout
        #expect(page.contains("The merge request was not updated: pull request #7 on GitHub"), "\(page)")
        #expect(!log.contains("expired-token-0042"), "the token is not printed")
        withExtendedLifetime(watch) {}
    }
}
