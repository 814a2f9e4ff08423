import Foundation
import Testing
import SluiceTestSupport

/// Two controller replicas on one PostgreSQL run store with a Lease (emulator): the leader dies
/// (`kill -9`) in the middle of a pipeline; the follower takes over when the Lease runs out,
/// marks the run interrupted and retries it from its unfinished stage, the finished one
/// restored from the database. A leader that is paused past its Lease and then goes on is fenced.
@Suite struct FailoverTests {
    @Test(.enabled(if: RequiredTools.run(whenPresent: KubeEmulator.hasKubectl), "kubectl is not installed: SKIPPED"))
    func aFollowerTakesOverADeadLeadersRunFromItsUnfinishedStage() throws {
        let held = try HeldTraining()
        let replicas = try Replicas(repository: held.repo.path, name: "demo")
        let sql = replicas.sql

        let a = try replicas.start("replica-a")
        try waitUntil("replica-a to lead and start training", timeout: 60) { held.started() == ["prepare", "train"] }
        let b = try replicas.start("replica-b")
        // The follower, started while the leader runs, leaves the leader's run alone.
        try waitUntil("replica-b to follow") {
            replicas.log("replica-b").contains("the run store is the PostgreSQL database")
        }
        #expect(try sql("SELECT status FROM runs WHERE id = 1") == "running\n")

        kill(a.pid, SIGKILL)
        var status: Int32 = 0
        waitpid(a.pid, &status, 0)
        held.release()
        // The Lease (15 s) runs out; replica-b leads, recovers run 1 and runs its retry.
        try waitUntil("replica-b to retry run 1", timeout: 90) {
            try sql("SELECT status FROM runs WHERE retryOf = 1") == "succeeded\n"
        }
        #expect(try sql("SELECT status FROM runs WHERE id = 1") == "interrupted\n")
        #expect(try sql("SELECT stage || ' ' || status FROM stage_results WHERE runId = (SELECT id FROM runs WHERE retryOf = 1) ORDER BY stage")
                == "prepare cached\ntrain succeeded\n")
        #expect(held.started() == ["prepare", "train", "train"])
        let log = replicas.log("replica-b")
        #expect(log.contains("sluice: run 1 (") && log.contains(") was interrupted by a crash; queued again as run"), "\(log)")
        withExtendedLifetime(b) {}
    }

    /// A commit of one gated stage, `evaluate`, that runs `command` and then writes an accuracy of 0.9.
    static func commitModel(_ repo: TestRepository, model: String, evaluating command: String) throws {
        try repo.commit("model", files: [
            "sluice.yaml": """
                version: 1
                stages:
                  evaluate:
                    run: "\(command); echo '{\\"accuracy\\": 0.9}' > m.json"
                    metrics: m.json
                gate: { policy: p.yaml, model: \(model) }
                """,
            "p.yaml": "rules:\n  - { metric: accuracy, direction: higher, min: 0.5 }\n",
        ])
    }

    /// The leader is paused (`SIGSTOP`: a long GC pause, a frozen VM) in the middle of its run;
    /// the follower takes the Lease, starts a new term and runs the commit itself. When the old
    /// leader goes on, its gate passes the same model, but its promotion is refused (its term is
    /// over): production moves once, by the replica that leads, and the old run says why not.
    @Test(.enabled(if: RequiredTools.run(whenPresent: KubeEmulator.hasKubectl), "kubectl is not installed: SKIPPED"))
    func aLeaderPausedPastItsLeasePromotesNothing() throws {
        let repo = try TestRepository()
        let replicas = try Replicas(repository: repo.path, name: "fenced")
        let sql = replicas.sql
        let release = replicas.scratch.path + "/release", marks = replicas.scratch.path + "/marks"
        try Self.commitModel(repo, model: "fenced", evaluating: "echo evaluate >> \(marks); while [ ! -f \(release) ]; do sleep 0.1; done")

        let a = try replicas.start("replica-a")
        try waitUntil("replica-a to lead and start evaluating", timeout: 60) { FileManager.default.fileExists(atPath: marks) }
        #expect(replicas.log("replica-a").contains("sluice: leading: replica-a's term 1 of lease sluice-system/sluice-leader"))
        let b = try replicas.start("replica-b")
        kill(a.pid, SIGSTOP)
        // The Lease (15 s) runs out; replica-b leads in term 2 and runs the commit (run 2 waits
        // for the stage replica-a still holds, then takes its result from the cache).
        try waitUntil("replica-b to lead", timeout: 60) { replicas.log("replica-b").contains("sluice: leading: replica-b's term 2 of lease") }
        FileManager.default.createFile(atPath: release, contents: nil)
        kill(a.pid, SIGCONT)
        try waitUntil("both runs to finish", timeout: 90) {
            try sql("SELECT string_agg(status, ' ' ORDER BY id) FROM runs") == "succeeded succeeded\n"
        }
        try waitUntil("replica-b to record the commit as processed") { try sql("SELECT count(*) FROM processed_refs") == "1\n" }
        #expect(try sql("SELECT runId || ' ' || actor FROM promotions") == "2 sluice run 2\n")
        let event = try sql("SELECT content FROM reports WHERE runId = 1 AND kind = 'promotion'")
        #expect(event.hasPrefix("not promoted: promoting fenced version"), "\(event)")
        #expect(event.contains("refused: replica-a's term 1 of lease sluice-system/sluice-leader"), "\(event)")
        a.stop()
        withExtendedLifetime(b) {}
    }

    /// The leader is paused mid-stage and its follower takes over and runs the commit; then the
    /// paused leader dies (`kill -9`: the node is gone for good). Its run, which the new leader
    /// found owned when it began, is found at a later renewal: marked interrupted, and not
    /// retried (the new leader's run has the commit), so nothing is left `running` or queued.
    @Test(.enabled(if: RequiredTools.run(whenPresent: KubeEmulator.hasKubectl), "kubectl is not installed: SKIPPED"))
    func aPausedLeaderThatDiesHasItsRunRecoveredByTheNextLeader() throws {
        let repo = try TestRepository()
        let replicas = try Replicas(repository: repo.path, name: "paused", lease: "duration: 3s")
        let sql = replicas.sql
        let marks = replicas.scratch.path + "/marks"
        try Self.commitModel(repo, model: "paused", evaluating: "echo evaluate >> \(marks); sleep 2")
        let a = try replicas.start("replica-a")
        try waitUntil("replica-a to lead and start evaluating", timeout: 60) { FileManager.default.fileExists(atPath: marks) }
        let b = try replicas.start("replica-b")
        kill(a.pid, SIGSTOP)
        try waitUntil("replica-b to lead", timeout: 60) { replicas.log("replica-b").contains("sluice: leading: replica-b's term 2 of lease") }
        // replica-b began with run 1 owned (its owner only paused) and started run 2, which waits
        // for the stage replica-a holds.
        #expect(try sql("SELECT string_agg(status, ' ' ORDER BY id) FROM runs").hasPrefix("running"))
        kill(a.pid, SIGKILL)
        var status: Int32 = 0
        waitpid(a.pid, &status, 0)
        try waitUntil("run 1 recovered and run 2 finished", timeout: 60) {
            try sql("SELECT string_agg(status, ' ' ORDER BY id) FROM runs") == "interrupted succeeded\n"
        }
        #expect(try sql("SELECT message FROM runs WHERE id = 1").contains("not retried: "), "\(replicas.log("replica-b"))")
        #expect(try sql("SELECT runId FROM promotions") == "2\n")
        withExtendedLifetime(b) {}
    }

    /// The leader dies while a stage runs as a Kubernetes Job. The pod's Sluice containers reach
    /// the controllers through their Service (either replica; a follower answers that it does
    /// not know the stage, and they ask again); the replica that takes over re-attaches to the
    /// Job it finds in the run's stage record and takes the stage's outputs from it: the stage
    /// runs once, in one pod.
    @Test(.enabled(if: RequiredTools.run(whenPresent: KubeEmulator.hasKubectl), "kubectl is not installed: SKIPPED"))
    func aFollowerReattachesToTheDeadLeadersJob() throws {
        let k = try KubernetesRunnerTests.emulator()
        let namespace = try k.kubectl(["apply", "--server-side", "-f", "-"], input: "apiVersion: v1\nkind: Namespace\nmetadata: { name: sluice-system }\n")
        #expect(namespace.status == 0, "\(namespace.stderr)")
        let repo = try TestRepository()
        let replicas = try Replicas(repository: repo.path, name: "jobs", lease: "duration: 3s", kube: k)
        let service = try ServiceProxy()
        let go = replicas.scratch.path + "/go", starts = replicas.scratch.path + "/starts"
        try repo.commit("pipeline", files: ["sluice.yaml": "version: 1\n" + KubernetesRunnerTests.runner + """
            stages:
              train:
                run: |
                  echo started >> \(starts)
                  while [ ! -f \(go) ]; do sleep 0.05; done
                  mkdir -p model && echo trained > model/w.bin
                outputs: [model/]
            """])
        replicas.environment = ["SLUICE_IMAGE": KubernetesRunnerTests.sluiceImage, "SLUICE_POD_ENDPOINT_URL": service.url]
        let a = try replicas.start("replica-a")
        try waitUntil("replica-a to lead", timeout: 60) { try replicas.sql("SELECT holder FROM leadership") == "replica-a\n" }
        let b = try replicas.start("replica-b")
        try service.endpoints([Replicas.port(a), Replicas.port(b)])
        try waitUntil("the stage to start in its pod", timeout: 60) { FileManager.default.fileExists(atPath: starts) }
        kill(a.pid, SIGKILL)
        var status: Int32 = 0
        waitpid(a.pid, &status, 0)

        try waitUntil("replica-b to lead", timeout: 60) { try replicas.sql("SELECT holder FROM leadership") == "replica-b\n" }
        func retryLog() throws -> String {
            let path = try replicas.sql("SELECT coalesce(logPath, '') FROM stage_results WHERE runId = 2 AND stage = 'train'")
                .trimmingCharacters(in: .whitespacesAndNewlines)
            return path.isEmpty ? "" : (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        }
        try waitUntil("the retry to re-attach to run 1's Job", timeout: 60) { try retryLog().contains("re-attached to Job ml/sluice-r1-train-") }
        FileManager.default.createFile(atPath: go, contents: Data())
        let finished = try waitUntil("the retry to finish", timeout: 90) {
            try replicas.sql("SELECT string_agg(status, ' ' ORDER BY id) FROM runs") == "interrupted succeeded\n"
        }
        if !finished {
            let pods = try k.kubectl(["-n", "ml", "logs", "-l", "sluice.dev/run=1", "--all-containers", "--prefix"])
            Issue.record("runs: \(try replicas.sql("SELECT id, status, message FROM runs"))\nretry's log: \(try retryLog())\npods: \(pods.stdout)\(pods.stderr)")
        }
        #expect(try String(contentsOfFile: starts, encoding: .utf8) == "started\n", "the stage ran once")
        #expect(try k.stats()["pods_created"] as? Int == 1)
        #expect(try replicas.sql("SELECT count(*) FROM artifacts WHERE runId = 2 AND stage = 'train'") != "0\n", "its outputs are the retry's")
        withExtendedLifetime(b) {}
    }

    /// A fork's merge request waits for an approval when the leader dies: the replica that takes
    /// over holds it too (nothing runs), takes the approval through its API and runs it once. A
    /// later push is approved on that leader, which dies right after: the next one runs it.
    @Test(.enabled(if: RequiredTools.run(whenPresent: KubeEmulator.hasKubectl), "kubectl is not installed: SKIPPED"))
    func aForksMergeRequestWaitingForApprovalSurvivesTheLeadersDeath() throws {
        let fake = try ForgeFake()
        try fake.markFork("github", mergeRequest: 5)
        let repo = try ServedRepository()
        try repo.commit("first", files: ["sluice.yaml": "version: 1\nstages:\n  build: { run: \"echo built > out.txt\", outputs: [out.txt] }\n"])
        func push(_ message: String) throws -> String {
            let head = try repo.work.commit(message, files: ["notes.txt": message])
            try repo.work.git(["push", "-q", "-f", repo.bare, "HEAD:refs/pull/5/head"])
            try repo.work.git(["reset", "-q", "--hard", "HEAD~1"])
            return head
        }
        let forked = try push("from a fork")
        let replicas = try Replicas(repository: repo.url, name: "iris", lease: "duration: 3s", settings: "token-env: SLUICE_TEST_API_TOKEN\n",
                                    repositoryKeys: ", forge: { kind: github, project: acme/iris, api: \(fake.api("github")), token-env: SLUICE_TEST_FORGE_TOKEN }")
        replicas.environment = ["SLUICE_TEST_FORGE_TOKEN": "forge-token", "SLUICE_TEST_API_TOKEN": "api-token"]
        let failovers = try Failovers(replicas)
        func runs() throws -> String { try replicas.sql("SELECT coalesce(string_agg(status, ' ' ORDER BY id), '-') FROM runs WHERE ref = 'refs/pull/5/head'") }
        func waiting(_ commit: String) throws -> Bool {
            try fake.statuses("github", commit: commit).contains { ($0["description"] as? String ?? "").hasPrefix("waiting for approval") }
        }
        func approve(_ commit: String) throws -> String {
            try ProcessRunner.run("curl", ["-s", "-X", "POST", "-H", "Authorization: Bearer api-token", failovers.addresses[0] + "/api/repositories/iris/approve",
                                           "-d", "{\"ref\": \"refs/pull/5/head\", \"commit\": \"\(commit.prefix(12))\", \"actor\": \"maintainer\"}"]).stdout
        }
        try waitUntil("the fork's head to wait for approval", timeout: 60) { try waiting(forked) }
        try failovers.killLeader("the merge request waits")
        try waitForPolls(failovers.addresses[0], count: 3)
        #expect(try runs() == "-\n", "the replica that leads runs no unapproved fork")
        let approved = try approve(forked)
        #expect(approved.contains("\"commit\":\"\(forked)\""), "\(approved)")
        try waitUntil("the approved head to run", timeout: 60) { try runs() == "succeeded\n" }

        let pushed = try push("another push")
        try waitUntil("the new head to wait for approval", timeout: 60) { try waiting(pushed) }
        #expect(try approve(pushed).contains("\"commit\":\"\(pushed)\""))
        try failovers.killLeader("approved, then the leader died")
        try waitUntil("the second approved head to run", timeout: 60) {
            try replicas.sql("SELECT count(*) FROM runs WHERE \"commit\" = '\(pushed)' AND status = 'succeeded'") == "1\n"
        }
        try waitForPolls(failovers.addresses[0], count: 3)
        #expect(try replicas.sql("SELECT string_agg(status, ' ' ORDER BY id) FROM runs WHERE \"commit\" = '\(pushed)'")
                    .split(separator: " ").filter { $0.hasPrefix("succeeded") }.count == 1, "it ran once")
        #expect(try fake.statuses("github", commit: pushed).contains { $0["state"] as? String == "success" })
        withExtendedLifetime(failovers) {}
    }
}

