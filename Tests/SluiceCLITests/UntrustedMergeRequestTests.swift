import Foundation
import Testing
import SluiceTestSupport

/// Merge-request code is untrusted (issue: "sandboxed stages, a scoped cache, and a policy for
/// forks"): each test is one attack or one policy, through the real binary.
@Suite(.serialized) struct UntrustedMergeRequestTests {
    let sluice = RepositoryLayout.sluiceBinary

    static let buildSpec = """
        version: 1
        stages:
          build: { run: "sh build.sh", outputs: [out.txt] }
          use: { run: "cat out.txt > used.txt", needs: [build], outputs: [used.txt] }

        """

    func run(_ repo: TestRepository, _ state: TemporaryDirectory, _ extra: [String], environment: [String: String] = [:]) throws -> ProcessResult {
        try ProcessRunner.run(sluice, ["run", "--repo", repo.path, "--state", state.path, "--keep-workspace"] + extra, environment: environment)
    }

    func lastRun(_ state: TemporaryDirectory, _ repo: TestRepository) throws -> Int {
        let r = try ProcessRunner.run(sluice, ["runs", "--repo", repo.path, "--state", state.path, "--format", "json"])
        let runs = (try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]] ?? []).compactMap { $0["run"] as? [String: Any] }
        return runs.compactMap { $0["id"] as? Int }.max() ?? 0
    }

    func logs(_ run: Int, _ stage: String, _ state: TemporaryDirectory, _ repo: TestRepository) throws -> String {
        try ProcessRunner.run(sluice, ["logs", String(run), stage, "--repo", repo.path, "--state", state.path]).stdout
    }

    func file(_ state: TemporaryDirectory, run: Int, _ name: String) -> String? {
        try? String(contentsOfFile: "\(state.path)/workspaces/run-\(run)/\(name)", encoding: .utf8)
    }

    /// The issue's scenario: a merge request's build prints POISON for itself and honest output
    /// for main; merged fast-forward, main must build itself rather than restore the poison.
    @Test func aMergeRequestCannotPoisonTheProductionBranchsCache() throws {
        let repo = try TestRepository()
        try repo.commit("honest build", files: ["sluice.yaml": Self.buildSpec, "build.sh": "echo honest > out.txt\n"])
        let state = TemporaryDirectory(prefix: "sluice-state")
        #expect(try run(repo, state, []).status == 0)

        let poisoned = try repo.commit("refactor the build", files: [
            "build.sh": "if [ \"$SLUICE_REF\" != refs/heads/main ]; then echo POISON > out.txt; else echo honest > out.txt; fi\n",
        ])
        try repo.git(["update-ref", "refs/pull/1/head", poisoned])
        try repo.git(["reset", "-q", "--hard", "HEAD~1"])
        let mr = try run(repo, state, ["--ref", "refs/pull/1/head", "--commit", poisoned])
        #expect(mr.status == 0, "\(mr.stdout)\n\(mr.stderr)")
        let mrRun = try lastRun(state, repo)
        #expect(file(state, run: mrRun, "used.txt") == "POISON\n", "the merge request stored its own output")

        // The same merge request again: its own entries are reused.
        let again = try run(repo, state, ["--ref", "refs/pull/1/head", "--commit", poisoned])
        #expect(again.status == 0)
        #expect(try logs(try lastRun(state, repo), "build", state, repo).contains("cache hit: result of run \(mrRun) (merge request 1) reused"))

        // Merged fast-forward: main's run has the same commit, so the same cache key.
        try repo.git(["reset", "-q", "--hard", poisoned])
        let main = try run(repo, state, [])
        #expect(main.status == 0, "\(main.stdout)\n\(main.stderr)")
        let mainRun = try lastRun(state, repo)
        let buildLog = try logs(mainRun, "build", state, repo)
        #expect(!buildLog.contains("cache hit"), "main restored what a merge request stored:\n\(buildLog)")
        #expect(file(state, run: mainRun, "out.txt") == "honest\n")
        #expect(file(state, run: mainRun, "used.txt") == "honest\n", "the next stage trained on honest output")

        // And main's own result is what main reuses later, shown with where it came from.
        #expect(try run(repo, state, []).status == 0)
        #expect(try logs(try lastRun(state, repo), "build", state, repo).contains("cache hit: result of run \(mainRun) (the production branch) reused"))
        // A merge request may reuse production's results.
        try repo.git(["update-ref", "refs/pull/2/head", poisoned])
        #expect(try run(repo, state, ["--ref", "refs/pull/2/head"]).status == 0)
        #expect(try logs(try lastRun(state, repo), "build", state, repo).contains("(the production branch) reused"))
    }

    /// A merge-request stage that reaches for the state folder, the content store, another
    /// workspace, the controller's configuration or home gets "Permission denied" and changes
    /// nothing; its own outputs are still stored.
    @Test func aSandboxedStageReachesOnlyItsWorkspace() throws {
        let repo = try TestRepository()
        try repo.commit("first", files: ["sluice.yaml": Self.buildSpec, "build.sh": "echo honest > out.txt\n"])
        let state = TemporaryDirectory(prefix: "sluice-state")
        let home = TemporaryDirectory(prefix: "sluice-home")
        let config = home.write(".config/sluice/controller.yaml", "repositories: []\n")
        // Even a PATH that lists the folders holding the state and the home grants neither.
        let parentOfState = (state.path as NSString).deletingLastPathComponent
        let path = "\(parentOfState):\(home.path):" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
        let environment = ["HOME": home.path, "PATH": path]
        #expect(try run(repo, state, [], environment: environment).status == 0)
        let first = try lastRun(state, repo)
        let blobs = try FileManager.default.subpathsOfDirectory(atPath: state.path + "/cas").filter { !$0.hasSuffix("/") && $0.count > 60 }
        let blob = state.path + "/cas/" + (try #require(blobs.first))
        let before = try [state.path + "/sluice.sqlite", blob, config, "\(state.path)/workspaces/run-\(first)/out.txt"].map {
            try Data(contentsOf: URL(fileURLWithPath: $0))
        }

        let attack = """
            for target in "$1/sluice.sqlite" "$2" "$1/workspaces/run-\(first)/out.txt" "$3" "$1/pwned"; do
              if echo PWNED >> "$target"; then echo "WROTE $target"; fi
            done
            cat "$1/sluice.sqlite" > /dev/null && echo "READ state"
            cat "$3" > /dev/null && echo "READ config"
            ls "$1/workspaces" > /dev/null && echo "LISTED workspaces"
            echo mine > out.txt
            """
        let head = try repo.commit("attack", files: ["build.sh": attack, "sluice.yaml": Self.buildSpec.replacingOccurrences(
            of: "sh build.sh", with: "sh build.sh \(state.path) \(blob) \(config)")])
        try repo.git(["update-ref", "refs/pull/4/head", head])
        let mr = try run(repo, state, ["--ref", "refs/pull/4/head", "--commit", head], environment: environment)
        #expect(mr.status == 0, "a normal stage still runs and writes its outputs: \(mr.stdout)\n\(mr.stderr)")
        let log = try logs(try lastRun(state, repo), "build", state, repo)
        #expect(log.contains("sandboxed (Landlock ABI"), "\(log)")
        #expect(!log.contains("WROTE") && !log.contains("READ") && !log.contains("LISTED"), "\(log)")
        #expect(log.components(separatedBy: "Permission denied").count - 1 >= 8, "\(log)")
        #expect(file(state, run: try lastRun(state, repo), "out.txt") == "mine\n")
        let after = try [state.path + "/sluice.sqlite", blob, config, "\(state.path)/workspaces/run-\(first)/out.txt"].map {
            try Data(contentsOf: URL(fileURLWithPath: $0))
        }
        #expect(Array(after[1...]) == Array(before[1...]), "the blob, the config and the other workspace are unchanged")
        #expect(!String(decoding: after[0], as: UTF8.self).contains("PWNED"))
        #expect(!FileManager.default.fileExists(atPath: state.path + "/pwned"))
        #expect(!FileManager.default.fileExists(atPath: state.path + "/scratch/run-\(try lastRun(state, repo))"), "the scratch folder is removed")

        // `--sandbox` confines the production branch's stages the same way.
        try repo.git(["reset", "-q", "--hard", head])
        #expect(try run(repo, state, ["--sandbox"], environment: environment).status == 0)
        let production = try logs(try lastRun(state, repo), "build", state, repo)
        #expect(production.contains("sandboxed") && !production.contains("WROTE"), "\(production)")
    }

    /// Without a sandbox (a kernel without Landlock, simulated with SLUICE_SANDBOX=off) a merge
    /// request's stages are refused unless allowed; the production branch runs as before.
    @Test func withoutASandboxMergeRequestStagesAreRefused() throws {
        let repo = try TestRepository()
        let head = try repo.commit("first", files: ["sluice.yaml": Self.buildSpec, "build.sh": "echo honest > out.txt\n"])
        try repo.git(["update-ref", "refs/pull/3/head", head])
        let state = TemporaryDirectory(prefix: "sluice-state")
        let off = ["SLUICE_SANDBOX": "off"]
        let refused = try run(repo, state, ["--ref", "refs/pull/3/head"], environment: off)
        #expect(refused.status == 1)
        let log = try logs(try lastRun(state, repo), "build", state, repo)
        #expect(log.contains("refused: merge-request stages run only in the sandbox, which is unavailable here (turned off with SLUICE_SANDBOX=off)"), "\(log)")
        let allowed = try run(repo, state, ["--ref", "refs/pull/3/head", "--allow-unsandboxed"], environment: off)
        #expect(allowed.status == 0, "\(allowed.stderr)")
        #expect(try logs(try lastRun(state, repo), "build", state, repo).contains("not sandboxed: the sandbox is unavailable here (turned off with SLUICE_SANDBOX=off)"))
        #expect(try run(repo, state, [], environment: off).status == 0, "the production branch is not affected")

        // The controller says so once at startup and in `sluice status`.
        let dir = TemporaryDirectory(prefix: "sluice-controller")
        let configFile = dir.write("controller.yaml", "listen: 127.0.0.1:0\ninterval: 1s\nrepositories:\n  - name: iris\n    url: \(repo.path)\n")
        let watch = try BackgroundProcess(sluice, ["watch", "--config", configFile, "--state", dir.path + "/state"],
                                          readyPrefix: "sluice: listening on 127.0.0.1:", environment: off, stderrFile: dir.path + "/controller.log")
        try waitUntil("the Sandboxed condition") {
            try ProcessRunner.run(sluice, ["status", "--repo", repo.path, "--state", dir.path + "/state"]).stdout.contains("Sandboxed")
        }
        let status = try ProcessRunner.run(sluice, ["status", "--repo", repo.path, "--state", dir.path + "/state"]).stdout
        #expect(status.contains("Sandboxed") && status.contains("SandboxUnavailable") && status.contains("merge-request stages are refused"), "\(status)")
        withExtendedLifetime(watch) {}
        let logged = try String(contentsOfFile: dir.path + "/controller.log", encoding: .utf8)
        #expect(logged.components(separatedBy: "stages cannot be sandboxed here").count == 2, "said once at startup: \(logged)")
    }

    /// A fork's merge request is not run until someone with the API token approves its head;
    /// then it runs once; a later push waits again. One from the project itself runs at once.
    @Test func aForksMergeRequestRunsOnlyOnceApproved() throws {
        let fake = try ForgeFake()
        try fake.markFork("github", mergeRequest: 5)
        let repo = try ServedRepository()
        let spec = Self.buildSpec.replacingOccurrences(of: "outputs: [out.txt] }", with: "outputs: [out.txt], when: { paths: [build.sh] } }")
            .replacingOccurrences(of: "outputs: [used.txt] }", with: "outputs: [used.txt], when: { paths: [build.sh] } }")
        try repo.commit("first", files: ["sluice.yaml": spec, "build.sh": "echo honest > out.txt\n"])
        func pushMergeRequest(_ number: Int, _ message: String) throws -> String {
            let head = try repo.work.commit(message, files: ["notes.txt": message])
            try repo.work.git(["push", "-q", "-f", repo.bare, "HEAD:refs/pull/\(number)/head"])
            try repo.work.git(["reset", "-q", "--hard", "HEAD~1"])
            return head
        }
        let forked = try pushMergeRequest(5, "from a fork")
        let dir = TemporaryDirectory(prefix: "sluice-controller")
        let config = dir.write("controller.yaml", """
            listen: 127.0.0.1:0
            interval: 1s
            token-env: SLUICE_TEST_API_TOKEN
            repositories:
              - name: iris
                url: \(repo.url)
                forge: { kind: github, project: acme/iris, api: \(fake.api("github")), token-env: SLUICE_TEST_FORGE_TOKEN }

            """)
        let watch = try BackgroundProcess(sluice, ["watch", "--config", config, "--state", dir.path + "/state"], readyPrefix: "sluice: listening on 127.0.0.1:",
                                          environment: ["SLUICE_TEST_FORGE_TOKEN": "forge-token", "SLUICE_TEST_API_TOKEN": "api-token"],
                                          stderrFile: dir.path + "/controller.log")
        let base = "http://127.0.0.1:\(watch.readyLine.split(separator: ",")[0])"
        func runs(of ref: String) throws -> [[String: Any]] {
            let r = try ProcessRunner.run(sluice, ["runs", "--repo", repo.url, "--state", dir.path + "/state", "--format", "json"])
            return ((try? JSONSerialization.jsonObject(with: Data(r.stdout.utf8))) as? [[String: Any]] ?? [])
                .compactMap { $0["run"] as? [String: Any] }.filter { $0["ref"] as? String == ref }
        }
        func statuses(_ commit: String) throws -> [String] {
            try fake.statuses("github", commit: commit).map { "\($0["state"] ?? "") \($0["description"] ?? "")" }
        }

        try waitUntil("main's first run") { try runs(of: "refs/heads/main").first?["status"] as? String == "succeeded" }
        let own = try pushMergeRequest(6, "from the project")
        try waitUntil("the project's own merge request ran") { try runs(of: "refs/pull/6/head").first?["status"] as? String == "succeeded" }
        // Its build was skipped (build.sh unchanged): the run page says whose outputs it reused.
        let mainRun = try #require(try runs(of: "refs/heads/main").first?["id"] as? Int)
        let ownRun = try #require(try runs(of: "refs/pull/6/head").first?["id"] as? Int)
        let runPage = try ProcessRunner.run("curl", ["-s", base + "/runs/\(ownRun)"]).stdout
        #expect(runPage.contains("outputs from <a href=\"/runs/\(mainRun)\">run \(mainRun)</a> (the production branch)"), "\(runPage)")
        try waitUntil("the fork's pending status") { try statuses(forked).contains { $0.hasPrefix("pending waiting for approval: the head comes from a fork (mallory/iris)") } }
        // Several polls later it still has not run, and is listed for approval in the UI.
        try waitForPolls(base, count: 3)
        #expect(try runs(of: "refs/pull/5/head").isEmpty, "a fork's merge request ran without approval")
        let page = try ProcessRunner.run("curl", ["-s", base + "/"]).stdout
        #expect(page.contains("Merge requests not run") && page.contains("refs/pull/5/head") && page.contains("Approve \(forked.prefix(12))"), "\(page)")

        // Approval needs the token, and names the reviewed commit.
        func approve(_ body: String, token: String = "api-token") throws -> String {
            try ProcessRunner.run("curl", ["-s", "-X", "POST", "-H", "Authorization: Bearer \(token)", "-d", body, base + "/api/repositories/iris/approve"]).stdout
        }
        #expect(try approve("{\"ref\": \"refs/pull/5/head\"}", token: "wrong").contains("Bearer"))
        #expect(try approve("{\"ref\": \"refs/pull/5/head\", \"commit\": \"\(own)\"}").contains("review that commit"))
        let approved = try approve("{\"ref\": \"refs/pull/5/head\", \"commit\": \"\(forked.prefix(12))\", \"actor\": \"maintainer\"}")
        #expect(approved.contains("\"commit\":\"\(forked)\"") && approved.contains("maintainer (api)"), "\(approved)")
        try waitUntil("the approved head ran") { try runs(of: "refs/pull/5/head").first?["status"] as? String == "succeeded" }
        try waitForPolls(base, count: 3)
        #expect(try runs(of: "refs/pull/5/head").count == 1, "it ran once")

        // A new push to the fork's merge request waits again; `sluice approve-run` lets it run.
        let pushed = try pushMergeRequest(5, "a second push from the fork")
        try waitUntil("the new head waits") { try statuses(pushed).contains { $0.hasPrefix("pending waiting for approval") } }
        #expect(try runs(of: "refs/pull/5/head").count == 1)
        let cli = try ProcessRunner.run(sluice, ["approve-run", "--merge-request", "5", "--commit", String(pushed.prefix(10)),
                                                 "--repo", repo.url, "--state", dir.path + "/state"])
        #expect(cli.status == 0 && cli.stdout.contains("approved refs/pull/5/head at \(pushed.prefix(12))"), "\(cli.stdout)\n\(cli.stderr)")
        try waitUntil("the second approved head ran") { try runs(of: "refs/pull/5/head").count == 2 }
        #expect(try fake.violations().isEmpty)
        withExtendedLifetime(watch) {}
    }

    /// The merge-request settings are checked like the rest of the configuration: located errors.
    @Test func mergeRequestSettingsWithErrorsAreLocated() throws {
        let dir = TemporaryDirectory()
        let config = dir.write("c.yaml", """
            repositories:
              - name: a
                url: /tmp/a
                merge-requests: { forks: sometimes, secret: true }
                sandbox: everything
              - name: b
                url: /tmp/b
                merge-requests: { forks: aproval, allow-unsandboxed: maybe }

            """)
        let r = try ProcessRunner.run(sluice, ["watch", "--config", config, "--check", "--state", dir.path + "/state"])
        #expect(r.status == 2)
        #expect(r.stderr.contains("c.yaml:4:30: error: 'merge-requests.forks' of 'a' must be never, approval or always, found 'sometimes'"), "\(r.stderr)")
        #expect(r.stderr.contains("c.yaml:4:41: error: unknown key 'secret'"), "\(r.stderr)")
        #expect(r.stderr.contains("c.yaml:5:14: error: 'sandbox' of 'a' must be merge-requests or all, found 'everything'"), "\(r.stderr)")
        #expect(r.stderr.contains("found 'aproval'") && r.stderr.contains("did you mean 'approval'"), "\(r.stderr)")
        #expect(r.stderr.contains("c.yaml:8:58: error:") && r.stderr.contains("allow-unsandboxed"), "\(r.stderr)")
        let good = dir.write("good.yaml", "repositories:\n  - { name: a, url: /tmp/a, merge-requests: { forks: never, secrets: false }, sandbox: all }\n")
        #expect(try ProcessRunner.run(sluice, ["watch", "--config", good, "--check", "--state", dir.path + "/state"]).status == 0)
    }
}
