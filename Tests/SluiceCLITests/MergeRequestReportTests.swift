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

    /// The comment shows the most telling pictures (the gated metric over the candidates, the
    /// declared plots) as images at the controller's advertised address, and the controller
    /// serves each of them as SVG.
    @Test func theCommentShowsPicturesTheControllerServes() throws {
        let fake = try ForgeFake()
        let repo = try TestRepository()
        try repo.commit("plots", files: [
            "sluice.yaml": PlotTests.spec(), "policy.yaml": "rules:\n  - { metric: accuracy, direction: higher, min: 0.5 }\n",
            "data/confusion.csv": "actual,predicted\ncat,cat\ndog,cat\n", "data/roc.csv": "fpr,tpr\n0,0\n1,1\n", "data/broken.csv": "a,b\n1,2\n",
        ])
        let state = TemporaryDirectory(prefix: "sluice-state")
        #expect(try run(repo, state, fake).status == 0)
        let body = try comment(fake)
        let links = body.split(separator: "\n").filter { $0.hasPrefix("![") }.compactMap { line in
            line.split(separator: "(").last.map { String($0.dropLast()) }
        }
        #expect(links == ["https://sluice.example.com/runs/1/charts/metric-accuracy.svg", "https://sluice.example.com/runs/1/charts/evaluate-Confusion.svg",
                          "https://sluice.example.com/runs/1/charts/evaluate-ROC.svg"], "\(body)")

        let dir = TemporaryDirectory()
        let config = dir.write("controller.yaml", "listen: 127.0.0.1:0\ninterval: 1h\nrepositories:\n  - { name: plotted, url: \(repo.path) }\n")
        let watch = try BackgroundProcess(sluice, ["watch", "--config", config, "--state", state.path], readyPrefix: "sluice: listening on 127.0.0.1:")
        let base = "http://127.0.0.1:\(watch.readyLine.split(separator: ",")[0])"
        for link in links {
            let path = String(link.dropFirst("https://sluice.example.com".count))
            let fetched = try ProcessRunner.run("curl", ["-s", "-o", dir.path + "/chart.svg", "-w", "%{http_code} %{content_type}", base + path])
            #expect(fetched.stdout == "200 image/svg+xml; charset=utf-8", "\(path): \(fetched.stdout)")
            let parsed = try ProcessRunner.run("python3", ["-c", "import sys, xml.etree.ElementTree as ET; print(ET.parse(sys.argv[1]).getroot().tag)", dir.path + "/chart.svg"])
            #expect(parsed.stdout == "{http://www.w3.org/2000/svg}svg\n", "\(path): \(parsed.stdout)\(parsed.stderr)")
        }
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

    func controller(_ repo: TestRepository, _ fake: ForgeFake, in dir: TemporaryDirectory, interval: String = "1s",
                    extra: String = "") throws -> BackgroundProcess {
        let config = dir.write("controller.yaml", """
            listen: 127.0.0.1:0
            interval: \(interval)
            \(extra)
            repositories:
              - name: iris
                url: \(repo.path)
                forge: { kind: github, project: acme/iris, api: \(fake.api("github")), token-env: SLUICE_TEST_FORGE_TOKEN }

            """)
        return try BackgroundProcess(sluice, ["watch", "--config", config, "--state", dir.path + "/state"], readyPrefix: "sluice: listening on 127.0.0.1:",
                                     environment: ["SLUICE_TEST_FORGE_TOKEN": "forge-token-1234"], stderrFile: dir.path + "/controller.log")
    }

    func runs(_ repo: TestRepository, _ dir: TemporaryDirectory, ref: String) throws -> [[String: Any]] {
        let out = try ProcessRunner.run(sluice, ["runs", "--repo", repo.path, "--state", dir.path + "/state", "--format", "json"]).stdout
        return ((try? JSONSerialization.jsonObject(with: Data(out.utf8))) as? [[String: Any]] ?? [])
            .compactMap { $0["run"] as? [String: Any] }.filter { $0["ref"] as? String == ref }
    }

    /// Only open merge requests run: forges keep the refs of closed ones.
    @Test func closedMergeRequestsAreNotRun() throws {
        let fake = try ForgeFake()
        try fake.close("github", mergeRequest: 15)
        let repo = try TestRepository()
        try repo.commit("first", files: ["sluice.yaml": "version: 1\nstages:\n  hello: { run: \"echo hello\" }\n"])
        for n in [7, 15] { try repo.git(["update-ref", "refs/pull/\(n)/head", "HEAD"]) }
        let dir = TemporaryDirectory(prefix: "sluice-controller")
        let watch = try controller(repo, fake, in: dir)
        try waitUntil("the open merge request ran") { try runs(repo, dir, ref: "refs/pull/7/head").first?["status"] as? String == "succeeded" }
        try waitForPolls("http://127.0.0.1:\(watch.readyLine.split(separator: ",")[0])", count: 2)
        #expect(try runs(repo, dir, ref: "refs/pull/15/head").isEmpty, "a closed merge request ran")
        #expect(try fake.comments("github", mergeRequest: 15).isEmpty)
        let log = try String(contentsOfFile: dir.path + "/controller.log", encoding: .utf8)
        #expect(log.components(separatedBy: "merge request refs/pull/15/head is closed: not run").count == 2, "said once: \(log)")
        withExtendedLifetime(watch) {}
    }

    /// A push while the merge request's run is going supersedes it at once; merge requests beyond
    /// the parallelism start as soon as a slot frees, not at the next poll.
    @Test func aNewerHeadSupersedesAndWaitingMergeRequestsFollowAtOnce() throws {
        let fake = try ForgeFake()
        let repo = try TestRepository()
        try repo.commit("first", files: ["sluice.yaml": "version: 1\nstages:\n  hello: { run: \"echo hello\" }\n"])
        let slow = try repo.commit("slow", files: ["sluice.yaml": "version: 1\nstages:\n  hello: { run: \"sleep 60\" }\n"])
        try repo.git(["update-ref", "refs/pull/7/head", slow])
        try repo.git(["reset", "-q", "--hard", "HEAD~1"])
        let dir = TemporaryDirectory(prefix: "sluice-controller")
        let watch = try controller(repo, fake, in: dir)
        try waitUntil("the slow run started") { try runs(repo, dir, ref: "refs/pull/7/head").first?["status"] as? String == "running" }
        let fast = try repo.commit("fast again", files: ["sluice.yaml": "version: 1\nstages:\n  hello: { run: \"echo fast\" }\n"])
        try repo.git(["update-ref", "refs/pull/7/head", fast])
        try repo.git(["reset", "-q", "--hard", "HEAD~1"])
        try waitUntil("the newer head ran", timeout: 20) {
            try runs(repo, dir, ref: "refs/pull/7/head").contains { $0["commit"] as? String == fast && $0["status"] as? String == "succeeded" }
        }
        let older = try #require(try runs(repo, dir, ref: "refs/pull/7/head").first { $0["commit"] as? String == slow })
        #expect(older["status"] as? String == "cancelled" && (older["message"] as? String)?.contains("superseded by a newer commit on refs/pull/7/head") == true, "\(older)")
        try waitUntil("the newer head's success status") { try fake.statuses("github", commit: fast).last?["state"] as? String == "success" }
        withExtendedLifetime(watch) {}

        // One slot, polls ten minutes apart: the second merge request starts when the first ends.
        let queued = TemporaryDirectory(prefix: "sluice-controller")
        for n in [3, 4] { try repo.git(["update-ref", "refs/pull/\(n)/head", "HEAD"]) }
        try repo.git(["update-ref", "-d", "refs/pull/7/head"])
        let one = try controller(repo, fake, in: queued, interval: "10m", extra: "merge-request-parallelism: 1")
        try waitUntil("both merge requests ran", timeout: 30) {
            try [3, 4].allSatisfy { try runs(repo, queued, ref: "refs/pull/\($0)/head").first?["status"] as? String == "succeeded" }
        }
        withExtendedLifetime(one) {}
    }
}
