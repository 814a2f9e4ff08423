import Foundation
import Testing
import SluiceTestSupport

/// Kills the leader (`kill -9`) at a random moment of a pipeline, again and again: two replicas
/// on one PostgreSQL store and one bucket (the S3 emulator) with the emulator's Lease (3 s), a
/// new replica started for each one killed, one new commit per trial (each a better model). Whatever the moment, nothing is lost
/// or done twice: every commit ends with one succeeded run (its earlier ones interrupted and
/// retried), no stage a run recorded as finished runs again in its retry, each commit is
/// promoted exactly once and in order, and no git lock file is left behind.
///
/// `SLUICE_FAILOVER_TRIALS` trials (default 3; the issue's harness is 20), the moments drawn
/// from `SLUICE_FAILOVER_SEED` (default: random; the seed is in every failure message).
@Suite struct FailoverTrialsTests {
    /// Where in a pipeline the leader is killed.
    enum Moment: CaseIterable {
        case prepareStarted, trainRunning, evaluateEnded, gated, runFinished
    }

    @Test(.enabled(if: RequiredTools.run(whenPresent: KubeEmulator.hasKubectl && S3Emulator.isInstalled), "kubectl or moto_server is not installed: SKIPPED"))
    func killingTheLeaderAtRandomMomentsLosesAndRepeatsNothing() throws {
        let environment = ProcessInfo.processInfo.environment
        let trials = environment["SLUICE_FAILOVER_TRIALS"].flatMap(Int.init) ?? 3
        let seed = environment["SLUICE_FAILOVER_SEED"].flatMap(UInt64.init) ?? UInt64.random(in: 1...UInt64.max)
        var random = SeededGenerator(seed: seed)
        let s3 = try S3Emulator(bucket: "trials", checkingSignatures: true)
        let key = try #require(s3.credentials)
        let repo = try TestRepository()
        let replicas = try Replicas(repository: repo.path, name: "trials", lease: "duration: 3s")
        replicas.environment = ["SLUICE_ARTIFACTS_URL": "s3://trials/sluice", "SLUICE_S3_ENDPOINT_URL": s3.url,
                                "AWS_ACCESS_KEY_ID": key.accessKeyID, "AWS_SECRET_ACCESS_KEY": key.secretAccessKey]
        let sql = replicas.sql
        let scratch = replicas.scratch
        let marks = scratch.path + "/marks"
        /// Who leads, in which term, as the store numbers them.
        func term() throws -> String { try sql("SELECT holder || ' ' || term FROM leadership") }
        var started = 0
        func replica() throws -> (name: String, process: BackgroundProcess) {
            started += 1
            return ("replica-\(started)", try replicas.start("replica-\(started)"))
        }
        func commit(_ trial: Int) throws -> String {
            try repo.commit("trial \(trial)", files: [
                "score": String(format: "0.%02d\n", 50 + trial),
                "sluice.yaml": """
                    version: 1
                    stages:
                      prepare: { run: "echo \\"prepare $SLUICE_COMMIT start\\" >> \(marks); cp score data.txt", outputs: [data.txt] }
                      train:
                        run: "echo \\"train $SLUICE_COMMIT start\\" >> \(marks); sleep 1; echo model $(cat data.txt) > model.bin"
                        needs: [prepare]
                        outputs: [model.bin]
                      evaluate:
                        run: "echo {\\\\\\"accuracy\\\\\\": $(cat score)} > m.json; echo \\"evaluate $SLUICE_COMMIT end\\" >> \(marks)"
                        needs: [train]
                        metrics: m.json
                    gate: { policy: policy.yaml, model: trials }
                    """,
                "policy.yaml": "rules:\n  - { metric: accuracy, direction: higher, min: 0.5 }\n",
            ])
        }
        func marked(_ text: String) -> Bool { ((try? String(contentsOfFile: marks, encoding: .utf8)) ?? "").contains(text) }

        var leader = try replica()
        try waitUntil("\(leader.name) to lead", timeout: 60) { try term() == "\(leader.name) 1\n" }
        var follower = try replica()
        var commits: [String] = []
        var moments: [String] = []
        for trial in 1...trials {
            let head = try commit(trial)
            commits.append(head)
            let moment = Moment.allCases[Int(random.next() % UInt64(Moment.allCases.count))]
            moments.append("\(trial): \(moment)")
            let context = "seed \(seed), trials \(moments)"
            let reached: () throws -> Bool = {
                switch moment {
                case .prepareStarted: return marked("prepare \(head) start")
                case .trainRunning: return marked("train \(head) start")
                case .evaluateEnded: return marked("evaluate \(head) end")
                case .gated:
                    return try sql("SELECT count(*) FROM reports JOIN runs ON runs.id = reports.runId WHERE kind = 'gate' AND \"commit\" = '\(head)'") != "0\n"
                case .runFinished:
                    return try sql("SELECT count(*) FROM runs WHERE \"commit\" = '\(head)' AND status = 'succeeded'") != "0\n"
                }
            }
            try waitUntil("trial \(trial)'s moment \(moment) (\(context))", timeout: 90, reached)
            let ended = try term()
            kill(leader.process.pid, SIGKILL)
            var status: Int32 = 0
            waitpid(leader.process.pid, &status, 0)
            let dead = leader.name
            // The follower, or the replica started now, leads once the Lease runs out.
            let survivors = [follower, try replica()]
            var next = ""
            try waitUntil("a replica to lead after \(dead) died (\(context))", timeout: 60) {
                next = try term()
                return next != ended && !next.hasPrefix(dead + " ")
            }
            guard let now = survivors.first(where: { next.hasPrefix($0.name + " ") }) else {
                Issue.record("\(next) leads, not a live replica (\(context))")
                return
            }
            (leader, follower) = (now, survivors.first { $0.name != now.name }!)
            try waitUntil("trial \(trial)'s commit promoted (\(context))", timeout: 120) {
                try sql("SELECT \"commit\" FROM promotions ORDER BY id DESC LIMIT 1") == head + "\n"
                    && sql("SELECT count(*) FROM runs WHERE \"commit\" = '\(head)' AND status IN ('queued', 'running')") == "0\n"
            }
            // No git lock file outlives the process that held it.
            let locks = try ProcessRunner.run("find", [repo.path + "/.git", scratch.path, "-name", "*.lock", "-path", "*.git*"]).stdout
            #expect(locks.isEmpty, "git lock files left behind: \(locks) (\(context))")
        }
        let context = "seed \(seed), trials \(moments)"

        // Every commit: one succeeded run, the others interrupted (each retried).
        for head in commits {
            let statuses = try sql("SELECT string_agg(status, ' ' ORDER BY id) FROM runs WHERE \"commit\" = '\(head)'")
            #expect(statuses.split(separator: " ").filter { $0.hasPrefix("succeeded") }.count == 1
                    && statuses.split(separator: " ").allSatisfy { $0.hasPrefix("succeeded") || $0 == "interrupted" }, "\(statuses) (\(context))")
        }
        #expect(try sql("SELECT count(*) FROM runs WHERE status = 'interrupted' AND id NOT IN (SELECT retryOf FROM runs WHERE retryOf IS NOT NULL)") == "0\n",
                "every interrupted run is retried (\(context))")
        // No stage an interrupted run recorded as finished ran again in its retry.
        let rerun = try sql("""
            SELECT r.id || ' ' || s.stage || ' ' || u.status FROM runs r JOIN stage_results s ON s.runId = r.id
            JOIN runs t ON t.retryOf = r.id JOIN stage_results u ON u.runId = t.id AND u.stage = s.stage
            WHERE r.status = 'interrupted' AND s.status IN ('succeeded', 'cached') AND u.status <> 'cached'
            """)
        #expect(rerun.isEmpty, "finished stages run again: \(rerun) (\(context))")
        // Each commit promoted once, in order, as one chain.
        let promoted = try sql("SELECT \"commit\" || ' ' || version || ' ' || coalesce(previousVersion, '-') FROM promotions ORDER BY id")
            .split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
        #expect(promoted.map { $0[0] } == commits, "promotions \(promoted) (\(context))")
        #expect(zip(promoted.dropFirst(), promoted).allSatisfy { $0[2] == $1[1] } && promoted.first?[2] == "-", "one chain: \(promoted) (\(context))")
        #expect(try sql("SELECT \"commit\" FROM processed_refs WHERE ref = 'refs/heads/main'") == (commits.last ?? "") + "\n", "\(context)")
        withExtendedLifetime((leader.process, follower.process)) {}
    }

    /// The leader dies while a version soaks in staging; the replica that takes over goes on
    /// with the soak where it was, asks for the approval production needs, and takes it through
    /// its API: each step of the chain happens once, and production moves once.
    @Test(.enabled(if: RequiredTools.run(whenPresent: KubeEmulator.hasKubectl), "kubectl is not installed: SKIPPED"))
    func aSoakAndAnApprovalWaitSurviveTheLeadersDeath() throws {
        let chain = EnvironmentChainTests()
        let repo = try chain.repository(EnvironmentChainTests.spec(production: "    promote: manual\n", staging: "    soak: 6s\n"))
        let replicas = try Replicas(repository: repo.path, name: "demo", lease: "duration: 3s", settings: "token-env: SLUICE_TEST_API_TOKEN\n")
        replicas.environment = ["SLUICE_TEST_API_TOKEN": "t0ken"]
        func steps() throws -> [String] {
            try replicas.sql("SELECT version || ' ' || environment || ' ' || state || ' ' || actor FROM environment_steps ORDER BY id")
                .split(separator: "\n").map(String.init)
        }
        let a = try replicas.start("replica-a")
        let b = try replicas.start("replica-b")
        try waitUntil("replica-a to lead") { try replicas.sql("SELECT holder FROM leadership") == "replica-a\n" }
        try waitUntil("version 1 to soak in staging", timeout: 90) { try steps().contains { $0.hasPrefix("1 staging verified") } }
        let soaking = try steps()
        #expect(!soaking.contains { $0.hasPrefix("1 production") }, "still soaking: \(soaking)")
        kill(a.pid, SIGKILL)
        var status: Int32 = 0
        waitpid(a.pid, &status, 0)

        try waitUntil("replica-b to lead") { try replicas.sql("SELECT holder FROM leadership") == "replica-b\n" }
        try waitUntil("the soak to end and production to wait for an approval", timeout: 60) {
            try steps().contains { $0.hasPrefix("1 production awaiting-approval") }
        }
        let base = "http://127.0.0.1:\(b.readyLine.split(separator: ",")[0])"
        let approved = try ProcessRunner.run("curl", ["-s", "-X", "POST", base + "/api/models/demo/versions/1/approve", "-H", "Authorization: Bearer t0ken",
                                                      "-H", "Content-Type: application/json", "-d", #"{"to": "production", "reason": "after the failover", "actor": "ana"}"#])
        #expect(approved.stdout.contains("\"position\":\"in production (production)\""), "\(approved.stdout)")
        let taken = try steps()
        for step in ["1 staging entered", "1 staging verified", "1 production awaiting-approval", "1 production approved", "1 production entered"] {
            #expect(taken.filter { $0.hasPrefix(step + " ") }.count == 1, "\(step) once: \(taken)")
        }
        #expect(try replicas.sql("SELECT string_agg(version, ' ') FROM promotions") == "1\n")
        #expect(try chain.branch(repo, "production").contains("version: '1'"))
    }

    /// The leader dies while a canary of version 2 is at one of its steps in production (a
    /// Kubernetes target, the analysis on a real Prometheus); the replica that takes over goes on
    /// from the step it was at: each weight once, production moved once, no canary left.
    @Test(.enabled(if: RequiredTools.run(whenPresent: KubeEmulator.hasKubectl && PrometheusServer.isInstalled),
                   "kubectl or prometheus is not installed: SKIPPED"))
    func aCanaryGoesOnFromItsStepWhenItsLeaderDies() throws {
        let exporter = try MetricsExporter("requests_total{version=\"2\"} 1000\nerrors_total{version=\"2\"} 1\n")
        let prometheus = try PrometheusServer(scraping: exporter.target)
        try prometheus.waitFor("errors_total{version=\"2\"}", value: "1")
        let repo = try EnvironmentChainTests().canaryRepository(pause: "2s")
        let replicas = try Replicas(repository: repo.path, name: "demo", lease: "duration: 3s")
        // The emulator takes server-side apply only, as Sluice writes.
        let created = try replicas.kube.kubectl(["apply", "--server-side", "-f", "-"], input: "apiVersion: v1\nkind: Namespace\nmetadata: { name: ml }\n")
        #expect(created.status == 0, "\(created.stderr)")
        replicas.environment = ["PROMETHEUS_URL": prometheus.url]
        func steps() throws -> [String] {
            try replicas.sql("SELECT version || ' ' || environment || ' ' || state || ' ' || detail FROM environment_steps ORDER BY id")
                .split(separator: "\n").map(String.init)
        }
        let first = try replicas.start("replica-a")
        let second = try replicas.start("replica-b")
        try waitUntil("version 1 in production", timeout: 120) { try steps().contains { $0.hasPrefix("1 production entered") } }
        try repo.commit("model 2", files: ["quality.json": GateFlowTests.quality(0.95), "data/d.csv": GateFlowTests.data(1)])
        try waitUntil("version 2's canary", timeout: 120) { try steps().contains { $0.hasPrefix("2 production canary") } }
        let leader = try replicas.sql("SELECT holder FROM leadership")
        kill((leader == "replica-a\n" ? first : second).pid, SIGKILL)

        try waitUntil("another replica to lead") { try replicas.sql("SELECT holder FROM leadership") != leader }
        try waitUntil("version 2 in production", timeout: 120) { try steps().contains { $0.hasPrefix("2 production entered") } }
        let taken = try steps()
        for step in ["2 production canary 25 %", "2 production canary 50 %", "2 production entered"] {
            #expect(taken.filter { $0.hasPrefix(step) }.count == 1, "\(step) once: \(taken)")
        }
        #expect(try replicas.sql("SELECT string_agg(version, ' ' ORDER BY id) FROM promotions") == "1 2\n")
        let server = try replicas.kube.kubectl(["-n", "ml", "get", "deployment", "server", "-o", "jsonpath={.spec.template.metadata.annotations.sluice\\.dev/version}"])
        #expect(server.stdout == "2")
        #expect(try !replicas.kube.kubectl(["-n", "ml", "get", "deployments", "-o", "name"]).stdout.contains("server-canary"), "the canary is removed")
        withExtendedLifetime((first, second, exporter)) {}
    }
}
