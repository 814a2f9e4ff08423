import Foundation
import Synchronization
import Testing
import SluiceTestSupport

/// What the controller's processes guarantee: stages' environment, draining, the state folder.
extension ReconcilerTests {
    /// Stages saw the controller's whole environment (forge tokens, webhook secrets, registry
    /// credentials, KUBECONFIG); now an allow-list, and a merge request gets no declared secrets.
    @Test func stagesSeeNoControllerSecretAndMergeRequestsNoDeclaredOnes() throws {
        let repo = try TestRepository()
        try repo.commit("env", files: ["sluice.yaml": """
            version: 1
            stages:
              env:
                run: [sh, -c, "env | cut -d= -f1 | sort; echo DEPLOY_KEY=${DEPLOY_KEY:+given}"]
                secrets: [DEPLOY_KEY]
                cache: false
            """])
        let state = TemporaryDirectory(prefix: "sluice-state")
        let controller = ["SLUICE_FORGE_TOKEN": "forge-secret-value-1", "SLUICE_TEST_WEBHOOK_SECRET": "hook-secret-2",
                          "MLFLOW_TRACKING_TOKEN": "mlflow-secret-3", "KUBECONFIG": "/etc/kubeconfig", "AWS_SECRET_ACCESS_KEY": "aws-4",
                          "DEPLOY_KEY": "declared-secret-5", "LANG": "C.UTF-8"]
        func stageLog(ref: String) throws -> String {
            let run = try ProcessRunner.run(sluice, ["run", "--repo", repo.path, "--state", state.path, "--ref", ref], environment: controller)
            #expect(run.status == 0, "\(run.stdout)\n\(run.stderr)")
            return try ProcessRunner.run(sluice, ["logs", "last", "env", "--repo", repo.path, "--state", state.path]).stdout
        }
        let production = try stageLog(ref: "refs/heads/main")
        for name in ["SLUICE_FORGE_TOKEN", "SLUICE_TEST_WEBHOOK_SECRET", "MLFLOW_TRACKING_TOKEN", "KUBECONFIG", "AWS_SECRET_ACCESS_KEY"] {
            #expect(!production.contains(name), "\(name) reached a stage:\n\(production)")
        }
        #expect(production.contains("LANG") && production.contains("PATH") && production.contains("SLUICE_COMMIT"))
        #expect(production.contains("DEPLOY_KEY=given"), "a declared secret reaches the production branch's stage")
        #expect(!production.contains("declared-secret-5"), "and is masked in its log")

        try repo.git(["update-ref", "refs/pull/9/head", "HEAD"])
        let mergeRequest = try stageLog(ref: "refs/pull/9/head")
        #expect(mergeRequest.contains("DEPLOY_KEY=\n") || mergeRequest.hasSuffix("DEPLOY_KEY="), "no declared secret for a merge request:\n\(mergeRequest)")
        #expect(!mergeRequest.contains("SLUICE_FORGE_TOKEN"))
    }
}

extension ReconcilerTests {
    /// Symptom 6: during SIGTERM's grace period the HTTP server stopped answering.
    @Test func theServerAnswersWhilePipelinesDrain() throws {
        let repo = try TestRepository()
        let scratch = TemporaryDirectory(prefix: "sluice-drain")
        let started = scratch.path + "/started", release = scratch.path + "/release"
        try repo.commit("slow", files: ["sluice.yaml": """
            version: 1
            stages:
              slow: { run: "touch \(started); while [ ! -e \(release) ]; do sleep 0.1; done" }
            """])
        let dir = TemporaryDirectory(prefix: "sluice-controller")
        let config = dir.write("controller.yaml", "listen: 127.0.0.1:0\ninterval: 1m\nrepositories:\n  - { name: slow, url: \(repo.path) }\n")
        let watch = try BackgroundProcess(sluice, ["watch", "--config", config, "--state", dir.path + "/state", "--grace", "60"],
                                          readyPrefix: "sluice: listening on 127.0.0.1:")
        let base = "http://127.0.0.1:\(watch.readyLine.split(separator: ",")[0])"
        try waitUntil("the stage to start") { FileManager.default.fileExists(atPath: started) }
        kill(watch.pid, SIGTERM)
        try waitUntil("/readyz to say draining") { try curl(base + "/readyz").hasPrefix("not ready: draining") }
        #expect(try curl(base + "/healthz") == "ok\n", "the server still answers during the grace period")
        #expect(try curl(base + "/metrics").contains("sluice_repository_healthy{repository=\"slow\"} 1"))
        FileManager.default.createFile(atPath: release, contents: nil)
        var status: Int32 = 0
        waitpid(watch.pid, &status, 0)
        #expect((status & 0x7f) == 0 && (status >> 8) & 0xff == 0, "exit 0 after the pipeline finished (status \(status))")
        let runs = try ProcessRunner.run(sluice, ["runs", "--repo", repo.path, "--state", dir.path + "/state"]).stdout
        #expect(runs.contains("succeeded"), "the running pipeline finished within the grace period: \(runs)")
    }
}

extension ReconcilerTests {
    /// Symptom 7: two processes opening a new state folder at once could fail with
    /// "table runs already exists". Migrations now run under a lock.
    @Test func processesOpeningOneNewStateFolderAtOnceAllSucceed() throws {
        let repo = try TestRepository()
        try repo.commit("one", files: ["sluice.yaml": "version: 1\nstages:\n  a: { run: \"true\" }\n"])
        for _ in 0..<3 {
            let state = TemporaryDirectory(prefix: "sluice-state")
            let group = DispatchGroup()
            let results = Mutex<[ProcessResult]>([])
            for _ in 0..<8 {
                group.enter()
                DispatchQueue.global().async {
                    defer { group.leave() }
                    // rollback --list opens (and on a new folder creates) the run store and only reads.
                    if let r = try? ProcessRunner.run(sluice, ["rollback", "--list", "--repo", repo.path, "--state", state.path]) {
                        results.withLock { $0.append(r) }
                    }
                }
            }
            group.wait()
            let all = results.withLock { $0 }
            #expect(all.count == 8)
            for r in all { #expect(r.status == 0, "\(r.stderr)") }
        }
    }

    /// An invalid `sluice.yaml` on a merge request: a failing status and a comment with every located error.
    @Test func aMergeRequestWithAnInvalidSpecFailsWithItsErrors() throws {
        let fake = try ForgeFake()
        let repo = try TestRepository()
        try repo.commit("model", files: Self.files())
        let broken = Self.spec.replacingOccurrences(of: "    outputs: [model/]", with: "    outputs: [model/]\n    timout: 5m")
        let head = try repo.commit("typo", files: ["sluice.yaml": broken])
        try repo.git(["update-ref", "refs/pull/3/head", head])
        try repo.git(["reset", "-q", "--hard", "HEAD~1"])
        let dir = TemporaryDirectory(prefix: "sluice-controller")
        let (watch, base) = try controller(repo.path, in: dir, settings: [Self.forge(fake)], environment: ["SLUICE_TEST_FORGE_TOKEN": "forge-token-123456"])
        try waitUntil("the failing status") { try fake.statuses("github", commit: head).compactMap { $0["state"] as? String } == ["failure"] }
        let comment = try fake.comments("github", mergeRequest: 3).first?["body"] as? String ?? ""
        #expect(comment.contains("sluice.yaml is invalid"), "\(comment)")
        #expect(comment.contains("unknown key 'timout'"), "\(comment)")
        // Two more polls later it was reported once, not again on every poll.
        func lastPoll() throws -> Double {
            let line = try curl(base + "/metrics").split(separator: "\n").first { $0.hasPrefix("sluice_last_successful_poll_timestamp_seconds{") }
            return line.flatMap { $0.split(separator: " ").last }.flatMap { Double($0) } ?? 0
        }
        let seen = try lastPoll()
        try waitUntil("two more polls") { try lastPoll() >= seen + 2 }
        #expect(try fake.statuses("github", commit: head).count == 1)
        withExtendedLifetime(watch) {}
    }
}

extension ReconcilerTests {
    /// A process a stage started with `setsid` outlived the stage when it exited normally.
    @Test func aDaemonAStageStartsEndsWithTheStage() throws {
        let scratch = TemporaryDirectory(prefix: "sluice-daemon")
        let pidFile = scratch.path + "/daemon.pid"
        let repo = try TestRepository()
        try repo.commit("daemon", files: ["sluice.yaml": """
            version: 1
            stages:
              start: { run: "setsid sh -c 'echo $$ > \(pidFile); exec sleep 300' > /dev/null 2>&1 & while [ ! -s \(pidFile) ]; do sleep 0.05; done" }
              after: { run: "true", needs: [start] }
            """])
        let state = TemporaryDirectory(prefix: "sluice-state")
        let r = try ProcessRunner.run(sluice, ["run", "--repo", repo.path, "--state", state.path])
        #expect(r.status == 0, "\(r.stdout)\n\(r.stderr)")
        let log = try ProcessRunner.run(sluice, ["logs", "last", "start", "--repo", repo.path, "--state", state.path]).stdout
        #expect(log.contains("killed 1 process the stage left running"), "\(log)")
        let pid = try String(contentsOfFile: pidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        try waitUntil("the daemon gone") {
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return true }
            return stat.split(separator: ")").last?.split(separator: " ").first == "Z"  // a zombie is dead, waiting for init
        }
    }
}

extension ReconcilerTests {
    /// A commit that takes the controller down every time it runs (a crash, a stage that
    /// exhausts the machine) was retried on every restart: every watched repository stopped.
    /// After three interruptions it is quarantined and the others are served.
    @Test func aCommitThatKeepsKillingTheControllerIsQuarantined() throws {
        let scratch = TemporaryDirectory(prefix: "sluice-crashloop")
        let starts = scratch.path + "/starts"
        let crashy = try TestRepository()
        try crashy.commit("crash", files: ["sluice.yaml": "version: 1\nstages:\n  hang: { run: \"echo x >> \(starts); sleep 60\" }\n"])
        let fine = try TestRepository()
        let dir = TemporaryDirectory(prefix: "sluice-controller")
        let config = dir.write("controller.yaml", "listen: 127.0.0.1:0\ninterval: 1s\nrepositories:\n  - { name: crashy, url: \(crashy.path) }\n  - { name: fine, url: \(fine.path) }\n")
        func startsSoFar() -> Int { ((try? String(contentsOfFile: starts, encoding: .utf8)) ?? "").split(separator: "\n").count }
        func start() throws -> BackgroundProcess {
            try BackgroundProcess(sluice, ["watch", "--config", config, "--state", dir.path + "/state"], readyPrefix: "sluice: listening on 127.0.0.1:",
                                  stderrFile: dir.path + "/controller.log")
        }
        for attempt in 1...3 {
            let watch = try start()
            try waitUntil("start \(attempt) of the stage") { startsSoFar() >= attempt }
            kill(watch.pid, SIGKILL)
            watch.stop()
        }
        try fine.commit("fine", files: ["sluice.yaml": "version: 1\nstages:\n  hello: { run: echo hello }\n"])
        let watch = try start()
        let base = "http://127.0.0.1:\(watch.readyLine.split(separator: ",")[0])"
        try waitUntil("the other repository served and the crashing commit quarantined") {
            let ready = try curl(base + "/readyz")
            return ready.contains("crashy: Ready=False (Quarantined)") && ready.contains("fine: Ready=True")
        }
        #expect(startsSoFar() == 3, "the quarantined commit was not started again")
        let logged = try String(contentsOfFile: dir.path + "/controller.log", encoding: .utf8)
        #expect(logged.contains("quarantined"), "\(logged)")
    }
}

extension ReconcilerTests {
    /// A run that failed on a full disk stayed "running". The content store on a 256 KB tmpfs:
    /// the output cannot be stored, the stage and the run fail with why.
    @Test func aFullDiskFailsTheRunWithTheReason() throws {
        let state = TemporaryDirectory(prefix: "sluice-state")
        let cas = state.path + "/cas"
        try FileManager.default.createDirectory(atPath: cas, withIntermediateDirectories: true)
        let mounted = try ProcessRunner.run("mount", ["-t", "tmpfs", "-o", "size=256k", "tmpfs", cas])
        guard mounted.status == 0 else {
            Issue.record("SKIPPED LOUDLY: the full-disk test mounts a small tmpfs, which needs root: \(mounted.stderr)")
            return
        }
        defer { _ = try? ProcessRunner.run("umount", [cas]) }
        let repo = try TestRepository()
        try repo.commit("big", files: ["sluice.yaml": "version: 1\nstages:\n  big: { run: \"head -c 2000000 /dev/zero > big.bin\", outputs: [big.bin] }\n"])
        let r = try ProcessRunner.run(sluice, ["run", "--repo", repo.path, "--state", state.path])
        #expect(r.status == 1, "\(r.stdout)\n\(r.stderr)")
        let runs = try self.runs(state.path, repo.path)
        #expect(runs.first?["status"] as? String == "failed", "\(runs)")
        #expect((runs.first?["message"] as? String)?.contains("big") == true)
        #expect(r.stdout.contains("No space left on device"), "\(r.stdout)")
    }
}
