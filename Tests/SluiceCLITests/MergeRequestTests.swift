import Foundation
import Testing
import SluiceTestSupport

/// Merge-request heads: the gate report as one comment updated in place, and commit
/// statuses, checked against each forge's documented API shapes by a local fake.
@Suite struct MergeRequestTests {
    let sluice = RepositoryLayout.sluiceBinary

    struct Case: Sendable, CustomStringConvertible {
        var forge: String
        var ref: String
        var project: String
        var description: String { forge }
    }

    static let cases = [
        Case(forge: "github", ref: "refs/pull/7/head", project: "acme/iris"),
        Case(forge: "gitlab", ref: "refs/merge-requests/7/head", project: "acme/ml/iris"),
        Case(forge: "gitea", ref: "refs/pull/7/head", project: "acme/iris"),
    ]

    func repository() throws -> (TestRepository, String) {
        let repo = try TestRepository()
        try repo.commit("main", files: [
            "sluice.yaml": GateFlowTests.spec, "policies/p.yaml": GateFlowTests.policy, "data/d.csv": GateFlowTests.data(0),
            "schemas/d.yaml": "columns:\n  x: { type: integer }\n  kind: { type: string }\n", "quality.json": GateFlowTests.quality(0.9),
        ])
        return (repo, try repo.commit("candidate", files: ["quality.json": GateFlowTests.quality(0.92)]))
    }

    func run(_ repo: TestRepository, _ state: TemporaryDirectory, _ c: Case, _ fake: ForgeFake, token: String = "secret-token-1234") throws -> ProcessResult {
        try ProcessRunner.run(sluice, ["run", "--repo", repo.path, "--state", state.path, "--ref", c.ref], environment: [
            "SLUICE_FORGE": c.forge, "SLUICE_FORGE_API": fake.api(c.forge), "SLUICE_FORGE_PROJECT": c.project,
            "SLUICE_FORGE_TOKEN": token, "SLUICE_REPORT_URL": "https://sluice.example.com/runs/{run}",
        ])
    }

    @Test(arguments: cases)
    func reportCommentIsUpdatedInPlaceAndStatusesFollowTheGate(c: Case) throws {
        let fake = try ForgeFake()
        let (repo, head) = try repository()
        let state = TemporaryDirectory(prefix: "sluice-state")
        let first = try run(repo, state, c, fake)
        #expect(first.status == 0, "\(first.stdout)\n\(first.stderr)")
        #expect(!first.stderr.contains("warning"), "\(first.stderr)")
        var comments = try fake.comments(c.forge, mergeRequest: 7)
        #expect(comments.count == 1)
        #expect((comments.first?["body"] as? String)?.contains("✅ would promote (report only)") == true)
        var statuses = try fake.statuses(c.forge, commit: head)
        #expect(statuses.map { $0["state"] as? String } == ["pending", "success"])
        #expect(statuses.last?["target_url"] as? String == "https://sluice.example.com/runs/1")

        // The author pushes a worse model: the same comment is rewritten, the status fails.
        let worse = try repo.commit("worse", files: ["quality.json": GateFlowTests.quality(0.7)])
        let second = try run(repo, state, c, fake)
        #expect(second.status == 1)
        comments = try fake.comments(c.forge, mergeRequest: 7)
        #expect(comments.count == 1, "re-runs update the one comment, found by its hidden marker")
        #expect((comments.first?["body"] as? String)?.contains("❌ would be rejected (report only)") == true)
        statuses = try fake.statuses(c.forge, commit: worse)
        #expect(statuses.map { $0["state"] as? String } == ["pending", c.forge == "gitlab" ? "failed" : "failure"])
        #expect(try fake.violations() == [])
        // Merge requests never promote.
        let log = try ProcessRunner.run(sluice, ["rollback", "--list", "--repo", repo.path, "--state", state.path])
        #expect(log.stdout.contains("has never been promoted"))
    }

    @Test func aTokenWithoutPermissionIsAClearWarningAndTheRunStillCompletes() throws {
        let fake = try ForgeFake()
        let (repo, _) = try repository()
        let state = TemporaryDirectory(prefix: "sluice-state")
        let c = Self.cases[0]
        let r = try run(repo, state, c, fake, token: "read-only")
        #expect(r.status == 0, "\(r.stdout)\n\(r.stderr)")
        #expect(r.stderr.contains("pull request #7 on GitHub: GitHub: POST /repos/acme/iris/issues/7/comments answered 403: Resource not accessible by personal access token — the token may not comment: it needs 'Pull requests: write'"),
                "\(r.stderr)")
        #expect(!r.stderr.contains("read-only"), "the token is never printed")
        let report = try ProcessRunner.run(sluice, ["report", "last", "--state", state.path])
        #expect(report.status == 0, "the report is stored with the run")
        #expect(try fake.violations() == [])
    }
}

extension MergeRequestTests {
    /// One controller, two repositories on two forges: each merge request's report goes to its
    /// own repository's forge and project, with its own token.
    @Test func theControllerReportsEachRepositorysMergeRequestsToItsOwnForge() throws {
        let fake = try ForgeFake()
        let (a, headA) = try repository()
        let (b, headB) = try repository()
        for (repo, head) in [(a, headA), (b, headB)] { _ = try repo.git(["update-ref", "refs/pull/7/head", head]) }
        _ = try b.git(["update-ref", "refs/merge-requests/7/head", headB])
        _ = try b.git(["update-ref", "-d", "refs/pull/7/head"])
        let dir = TemporaryDirectory()
        let config = dir.write("controller.yaml", """
            listen: 127.0.0.1:0
            interval: 1s
            repositories:
              - name: a
                url: \(a.path)
                forge: { kind: github, project: acme/a, api: "\(fake.api("github"))", token-env: A_FORGE_TOKEN }
              - name: b
                url: \(b.path)
                forge: { kind: gitlab, project: acme/ml/b, api: "\(fake.api("gitlab"))", token-env: B_FORGE_TOKEN }
            """)
        let watch = try BackgroundProcess(sluice, ["watch", "--config", config, "--state", dir.path + "/state"], readyPrefix: "sluice: listening on",
                                          environment: ["A_FORGE_TOKEN": "secret-token-1234", "B_FORGE_TOKEN": "secret-token-1234"])
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline, (try fake.statuses("github", commit: headA).count < 2 || fake.statuses("gitlab", commit: headB).count < 2) {
            Thread.sleep(forTimeInterval: 0.2)
        }
        let github = try fake.statuses("github", commit: headA), gitlab = try fake.statuses("gitlab", commit: headB)
        #expect(github.map { $0["state"] as? String } == ["pending", "success"], "\(github)")
        #expect(gitlab.map { $0["state"] as? String } == ["pending", "success"], "\(gitlab)")
        #expect(try fake.comments("github", mergeRequest: 7).count == 1)
        #expect(try fake.comments("gitlab", mergeRequest: 7).count == 1)
        #expect(try fake.violations() == [])
        watch.stop()
    }

    @Test func anUnknownForgeKindIsALocatedError() throws {
        let dir = TemporaryDirectory()
        let config = dir.write("c.yaml", "repositories:\n  - name: a\n    url: /tmp/a\n    forge: { kind: githup, project: acme/a }\n")
        let r = try ProcessRunner.run(sluice, ["watch", "--config", config, "--check", "--state", dir.path + "/state"])
        #expect(r.status == 2)
        #expect(r.stderr.contains("c.yaml:4:20: error: unknown forge 'githup'; did you mean 'github'?"), "\(r.stderr)")
    }
}
