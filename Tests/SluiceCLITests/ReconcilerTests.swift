import Foundation
import Synchronization
import Testing
import SluiceTestSupport

/// The controller reconciles by state (issue: "the controller as a level-triggered reconciler"):
/// each test reproduces one symptom of the event-driven controller through the real binary
/// against repositories served by `git daemon`.
@Suite(.serialized) struct ReconcilerTests {
    let sluice = RepositoryLayout.sluiceBinary

    static let schema = "columns:\n  x: { type: integer }\n  kind: { type: string }\n"

    /// GateFlowTests' pipeline with a `test` stage that train needs.
    static let spec = GateFlowTests.spec.replacingOccurrences(of: """
          train:
            run: [sh, -c, "mkdir -p model && cp data/d.csv model/weights.csv"]
            needs: [validate]
        """, with: """
          test:
            run: [sh, test.sh]
          train:
            run: [sh, -c, "mkdir -p model && cp data/d.csv model/weights.csv"]
            needs: [validate, test]
            when: { datasets: [d], paths: ["train/**"] }
        """).replacingOccurrences(of: """
            needs: [train]
            metrics: metrics.json
        """, with: """
            needs: [train]
            when: { paths: [quality.json] }
            metrics: metrics.json
        """)

    static func files(data: Int = 0, test: String = "exit 0", quality: Double = 0.9) -> [String: String] {
        ["sluice.yaml": spec, "policies/p.yaml": GateFlowTests.policy, "data/d.csv": GateFlowTests.data(data),
         "schemas/d.yaml": schema, "quality.json": GateFlowTests.quality(quality), "test.sh": test + "\n"]
    }

    func json(_ text: String) throws -> Any { try JSONSerialization.jsonObject(with: Data(text.utf8)) }

    /// The stored gate report of `run`, as JSON.
    func report(_ run: Int, state: String, repo: String) throws -> [String: Any] {
        let r = try ProcessRunner.run(sluice, ["report", String(run), "--state", state, "--repo", repo, "--format", "json"])
        return (try json(r.stdout) as? [String: Any]) ?? [:]
    }

    func stageStatus(_ report: [String: Any], _ stage: String) -> String? {
        (report["stages"] as? [[String: Any]])?.first { $0["stage"] as? String == stage }?["status"] as? String
    }

    func runs(_ state: String, _ repo: String) throws -> [[String: Any]] {
        let r = try ProcessRunner.run(sluice, ["runs", "--repo", repo, "--state", state, "--format", "json"])
        return ((try? json(r.stdout)) as? [[String: Any]] ?? []).compactMap { $0["run"] as? [String: Any] }
    }

    func curl(_ url: String) throws -> String { try ProcessRunner.run("curl", ["-s", "--max-time", "10", url]).stdout }

    /// Symptom 2: new data committed with a failing test was never trained: the fix commit
    /// compared its data with its parent's and skipped training.
    @Test func aDataChangeWhoseRunFailedIsTrainedByTheFixCommit() throws {
        let repo = try ServedRepository()
        let state = TemporaryDirectory(prefix: "sluice-state")
        func run() throws -> ProcessResult { try ProcessRunner.run(sluice, ["run", "--repo", repo.url, "--state", state.path]) }
        try repo.commit("first model", files: Self.files())
        let first = try run()
        #expect(first.status == 0, "\(first.stdout)\n\(first.stderr)")
        #expect(first.stdout.contains("version 1 is now in production"))

        try repo.commit("new data, broken test", files: ["data/d.csv": GateFlowTests.data(3), "test.sh": "exit 1\n"])
        let broken = try run()
        #expect(broken.status == 1)
        #expect(broken.stdout.contains("blocked"), "train cannot run after the failed test: \(broken.stdout)")

        let fix = try repo.commit("fix the test", files: ["test.sh": "exit 0\n"])
        let fixed = try run()
        #expect(fixed.status == 0, "\(fixed.stdout)\n\(fixed.stderr)")
        #expect(fixed.stdout.contains("version 2 is now in production"), "\(fixed.stdout)")
        let r = try report(3, state: state.path, repo: repo.url)
        #expect(stageStatus(r, "train") == "succeeded", "the new data is trained: \(r["stages"] ?? "")")
        let dataVersion = try repo.work.git(["rev-parse", "\(fix):data/d.csv"])
        #expect((r["datasetVersions"] as? [String: String])?["d"] == dataVersion, "the promoted model's lineage names the data it was trained on")

        // Nothing changed since: a docs-only commit registers nothing new (the same model, version 2).
        try repo.commit("docs", files: ["README.md": "docs\n"])
        let docs = try run()
        #expect(docs.status == 0, "\(docs.stdout)\n\(docs.stderr)")
        #expect(docs.stdout.contains("gate: report-only"), "\(docs.stdout)")
        let docsReport = try report(4, state: state.path, repo: repo.url)
        #expect((docsReport["notes"] as? [String])?.contains { $0.contains("no new candidate: the model is production's version 2") } == true,
                "\(docsReport["notes"] ?? "")")
    }

    /// Symptom 1: a `sluice.yaml` with an error was silently skipped and recorded as processed.
    @Test func anInvalidSpecSetsSpecValidFalseAndTheFixingCommitRunsWhatItMissed() throws {
        let repo = try ServedRepository()
        try repo.commit("first model", files: Self.files())
        let dir = TemporaryDirectory(prefix: "sluice-controller")
        let config = dir.write("controller.yaml", "listen: 127.0.0.1:0\ninterval: 1s\nrepositories:\n  - { name: iris, url: \(repo.url), merge-requests: false }\n")
        let state = dir.path + "/state", log = dir.path + "/controller.log"
        let watch = try BackgroundProcess(sluice, ["watch", "--config", config, "--state", state], readyPrefix: "sluice: listening on 127.0.0.1:",
                                          stderrFile: log)
        let base = "http://127.0.0.1:\(watch.readyLine.split(separator: ",")[0])"
        try waitUntil("the first verdict") { try runs(state, repo.url).first?["verdict"] as? String == "promote" }

        // A typo and a data change in one commit: nothing runs, and everyone can see why.
        let typo = Self.spec.replacingOccurrences(of: "    outputs: [model/]", with: "    outputs: [model/]\n    timout: 5m")
        try repo.commit("typo and new data", files: ["sluice.yaml": typo, "data/d.csv": GateFlowTests.data(5)])
        try waitUntil("SpecValid=False") { try curl(base + "/readyz").contains("iris: Ready=False (InvalidSpec)") }
        let metrics = try curl(base + "/metrics")
        #expect(metrics.contains("sluice_condition{repository=\"iris\",environment=\"\",type=\"SpecValid\",status=\"False\",reason=\"InvalidSpec\"} 1"))
        #expect(try curl(base + "/").contains("unknown key &#39;timout&#39;") || (try curl(base + "/").contains("unknown key 'timout'")))
        let logged = try String(contentsOfFile: log, encoding: .utf8)
        #expect(logged.contains("invalid sluice.yaml: sluice.yaml:"), "\(logged)")
        #expect(logged.contains("unknown key 'timout'"))
        #expect(try runs(state, repo.url).count == 1, "nothing ran for the invalid commit")

        // The fix: the data change of the invalid commit is trained now.
        try repo.commit("fix the typo", files: ["sluice.yaml": Self.spec])
        try waitUntil("the fix's verdict") { try runs(state, repo.url).count == 2 && runs(state, repo.url).first?["verdict"] != nil }
        try waitUntil("Ready=True") { try curl(base + "/readyz").contains("iris: Ready=True") }
        let r = try report(2, state: state, repo: repo.url)
        #expect(stageStatus(r, "train") == "succeeded", "\(r["stages"] ?? "")")
        kill(watch.pid, SIGTERM)
        var status: Int32 = 0
        waitpid(watch.pid, &status, 0)

        // The conditions outlive the controller process: `sluice status` reads them from the state folder.
        let shown = try ProcessRunner.run(sluice, ["status", "--repo", repo.url, "--state", state])
        #expect(shown.stdout.contains("SpecValid=True Valid"), "\(shown.stdout)\n\(shown.stderr)")
        let asJSON = try ProcessRunner.run(sluice, ["status", "--repo", repo.url, "--state", state, "--format", "json"])
        #expect(asJSON.stdout.contains("\"SpecValid\""), "\(asJSON.stdout)")
        let lines = try String(contentsOfFile: log, encoding: .utf8)
        #expect(lines.contains("condition SpecValid=True"), "the change back is logged once")
        #expect(lines.contains("verdict promote"))
    }

    /// Symptom 3: with a gate that cannot be evaluated the controller stored the run as
    /// succeeded, left the merge request pending and logged nothing.
    @Test func aGateErrorInTheControllerFailsClosed() throws {
        let fake = try ForgeFake()
        let repo = try ServedRepository()
        var files = Self.files()
        files["sluice.yaml"] = Self.spec.replacingOccurrences(of: "  model: demo", with: "  model: demo\n  registry: mlflow")
        try repo.commit("model", files: files)
        let head = try repo.commit("candidate", files: ["quality.json": GateFlowTests.quality(0.92)], refs: ["HEAD:refs/pull/1/head"])
        let dir = TemporaryDirectory(prefix: "sluice-controller")
        let config = dir.write("controller.yaml", """
            listen: 127.0.0.1:0
            interval: 1s
            repositories:
              - name: iris
                url: \(repo.url)
                forge: { kind: github, project: acme/iris, api: \(fake.api("github")), token-env: SLUICE_TEST_FORGE_TOKEN }
            """)
        let state = dir.path + "/state", log = dir.path + "/controller.log"
        let watch = try BackgroundProcess(sluice, ["watch", "--config", config, "--state", state], readyPrefix: "sluice: listening on 127.0.0.1:",
                                          environment: ["SLUICE_TEST_FORGE_TOKEN": "forge-token-123456", "MLFLOW_TRACKING_URI": ""], stderrFile: log)
        let base = "http://127.0.0.1:\(watch.readyLine.split(separator: ",")[0])"
        try waitUntil("the merge request's failing status") {
            try fake.statuses("github", commit: head).compactMap { $0["state"] as? String } == ["pending", "failure"]
        }
        try waitUntil("Gated=False") { try curl(base + "/readyz").contains("iris: Ready=False (GateNotEvaluated)") }
        let all = try runs(state, repo.url)
        #expect(all.allSatisfy { $0["verdict"] as? String == "could-not-evaluate" && $0["status"] as? String == "failed" }, "\(all)")
        #expect(all.allSatisfy { ($0["message"] as? String)?.contains("the gate could not be evaluated: gate.registry is mlflow but MLFLOW_TRACKING_URI is not set") == true })
        let logged = try String(contentsOfFile: log, encoding: .utf8)
        #expect(logged.contains("the gate could not be evaluated"), "\(logged)")
        #expect(!logged.contains("forge-token-123456"), "secrets never reach the log")
        let promotions = try ProcessRunner.run(sluice, ["rollback", "--list", "--model", "demo", "--repo", repo.url, "--state", state])
        #expect(promotions.stdout.contains("demo has never been promoted") || promotions.stderr.contains("demo has never been promoted"),
                "nothing was promoted: \(promotions.stdout)\(promotions.stderr)")
        #expect(try fake.violations().isEmpty)
    }
}

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
    /// A fresh state folder was amnesia: it gated against nothing and promoted whatever came.
    /// Now production is recovered from the repository's promotion record (refs/sluice/promotions).
    @Test func aFreshStateFolderRecoversProductionFromGit() throws {
        let repo = try ServedRepository()
        let first = TemporaryDirectory(prefix: "sluice-state")
        func run(_ state: TemporaryDirectory, _ extra: [String] = []) throws -> ProcessResult {
            try ProcessRunner.run(sluice, ["run", "--repo", repo.url, "--state", state.path] + extra)
        }
        let c1 = try repo.commit("first model", files: Self.files())
        #expect(try run(first).stdout.contains("version 1 is now in production"))
        try repo.commit("better model", files: ["quality.json": GateFlowTests.quality(0.95), "data/d.csv": GateFlowTests.data(1)])
        let better = try run(first)
        #expect(better.stdout.contains("version 2 is now in production"), "\(better.stdout)\n\(better.stderr)")
        let record = try repo.servedGit(["show", "refs/sluice/promotions:promotions.jsonl"])
        #expect(record.split(separator: "\n").count == 2, "each promotion is a line in the pushed record: \(record)")
        #expect(try repo.servedGit(["log", "--format=%s", "refs/sluice/promotions"]).contains("promote demo version 2"))

        // A new replica with an empty state folder: production is version 2, not nothing.
        let fresh = TemporaryDirectory(prefix: "sluice-state")
        let same = try run(fresh)
        #expect(same.status == 0, "\(same.stdout)\n\(same.stderr)")
        #expect(same.stdout.contains("note: production of demo recovered from refs/sluice/promotions: version 2"), "\(same.stdout)")
        #expect(same.stdout.contains("gate: report-only"), "the head is production's own model: \(same.stdout)")
        let log = try ProcessRunner.run(sluice, ["rollback", "--list", "--model", "demo", "--repo", repo.url, "--state", fresh.path])
        #expect(log.stdout.contains("recovered from refs/sluice/promotions"), "\(log.stdout)")

        // A worse candidate is gated against the recovered production (it passes the absolute bound alone).
        try repo.commit("worse model", files: ["quality.json": GateFlowTests.quality(0.85), "data/d.csv": GateFlowTests.data(2)])
        let worse = try run(fresh)
        #expect(worse.status == 1)
        #expect(worse.stdout.contains("gate: reject"), "\(worse.stdout)")

        // And an older commit is never promoted over the newer production.
        let older = TemporaryDirectory(prefix: "sluice-state")
        let old = try run(older, ["--commit", c1])
        #expect(!old.stdout.contains("is now in production"), "\(old.stdout)")
        #expect(old.stdout.contains("gate: reject") || old.stdout.contains("gate: report-only"), "\(old.stdout)")
    }
}

/// The environment half of the reconciler against the Kubernetes API emulator.
extension ReconcilerTests {
    static func kubernetesFiles(sync: String) -> [String: String] {
        var files = files()
        files["sluice.yaml"] = spec + "\ndeploy:\n  manifests: manifests/\n  target: kubernetes\n  environment: prod\n  namespace: ml\n  timeout: 60s\n" + sync
        files["manifests/app.yaml"] = KubernetesDeployTests.manifest()
        return files
    }

    func controller(_ repo: ServedRepository, _ k: KubeEmulator, _ dir: TemporaryDirectory) throws -> (BackgroundProcess, String) {
        let config = dir.write("controller.yaml", "listen: 127.0.0.1:0\ninterval: 1s\nrepositories:\n  - { name: iris, url: \(repo.url), merge-requests: false }\n")
        let watch = try BackgroundProcess(sluice, ["watch", "--config", config, "--state", dir.path + "/state"], readyPrefix: "sluice: listening on 127.0.0.1:",
                                          environment: ["KUBECONFIG": k.kubeconfig], stderrFile: dir.path + "/controller.log")
        return (watch, "http://127.0.0.1:\(watch.readyLine.split(separator: ",")[0])")
    }

    func condition(_ base: String, environment: String, _ type: String, _ status: String, _ reason: String) throws -> Bool {
        try curl(base + "/metrics").contains("sluice_condition{repository=\"iris\",environment=\"\(environment)\",type=\"\(type)\",status=\"\(status)\",reason=\"\(reason)\"} 1")
    }

    /// Symptom 4: an object deleted by hand went unnoticed until the next promotion.
    @Test func anObjectDeletedOnTheClusterIsDriftAndSelfHealPutsItBack() throws {
        let k = try KubeEmulator(namespace: "ml")
        let repo = try ServedRepository()
        try repo.commit("model", files: Self.kubernetesFiles(sync: "sync: { interval: 1s }\n"))
        let dir = TemporaryDirectory(prefix: "sluice-controller")
        let (watch, base) = try controller(repo, k, dir)
        try waitUntil("deployed and in sync") {
            try condition(base, environment: "prod", "Deployed", "True", "UpToDate") && condition(base, environment: "prod", "InSync", "True", "InSync")
        }
        #expect(try k.kubectl(["delete", "configmap", "demo-config", "-n", "ml"]).status == 0)
        try waitUntil("InSync=False") { try condition(base, environment: "prod", "InSync", "False", "Drifted") }
        #expect(try curl(base + "/readyz").contains("iris: Ready=False (Drifted)"))
        let logged = try String(contentsOfFile: dir.path + "/controller.log", encoding: .utf8)
        #expect(logged.contains("drift: the environment differs from version 1's manifests"), "\(logged)")
        #expect(try k.kubectl(["get", "configmap", "demo-config", "-n", "ml"]).status != 0, "without selfHeal nothing is changed")

        // selfHeal on: the next check applies the manifests again.
        try repo.commit("self-heal", files: ["sluice.yaml": Self.kubernetesFiles(sync: "sync: { interval: 1s, selfHeal: true }\n")["sluice.yaml"]!])
        try waitUntil("the ConfigMap back") { try k.kubectl(["get", "configmap", "demo-config", "-n", "ml"]).status == 0 }
        try waitUntil("InSync=True") { try condition(base, environment: "prod", "InSync", "True", "InSync") || condition(base, environment: "prod", "InSync", "True", "SelfHealed") }
        withExtendedLifetime(watch) {}
    }

    /// Symptom 4 and the kill -9 window: a crash between promotion and deploy left production
    /// and the environment different for good. The restart deploys the production version.
    @Test func killDashNineBetweenPromotionAndDeployIsRepairedByTheRestart() throws {
        let k = try KubeEmulator(namespace: "ml")
        let repo = try ServedRepository()
        try repo.commit("model", files: Self.kubernetesFiles(sync: ""))
        let dir = TemporaryDirectory(prefix: "sluice-controller")
        var (watch, base) = try controller(repo, k, dir)
        try waitUntil("version 1 deployed") { try condition(base, environment: "prod", "Deployed", "True", "UpToDate") }

        try k.hook("stall")
        try repo.commit("better model", files: ["quality.json": GateFlowTests.quality(0.95)])
        try waitUntil("the deploy of version 2 under way") { (try k.stats()["stalled"] as? Int ?? 0) >= 1 }
        kill(watch.pid, SIGKILL)
        watch.stop()
        try k.hook("release")
        let version = { try k.kubectl(["get", "deploy", "demo-server", "-n", "ml", "-o", "jsonpath={.spec.template.metadata.annotations.sluice\\.dev/version}"]).stdout }
        #expect(try version() == "1", "the crash left the cluster on version 1")

        (watch, base) = try controller(repo, k, dir)
        try waitUntil("version 2 deployed by the restart") { try version() == "2" }
        try waitUntil("Deployed=True") { try condition(base, environment: "prod", "Deployed", "True", "UpToDate") }
        let promotions = try ProcessRunner.run(sluice, ["runs", "--repo", repo.url, "--state", dir.path + "/state", "--format", "json"]).stdout
        #expect(promotions.components(separatedBy: "\"verdict\" : \"promote\"").count - 1 <= 2, "version 2 was promoted once: \(promotions)")
        withExtendedLifetime(watch) {}
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
    /// Point 8: a controller tracking `branch: release` (no `gate.branch`) never promoted,
    /// because the gate took the repository's default branch as the production branch.
    @Test func theControllersBranchIsTheProductionBranch() throws {
        let repo = try TestRepository()
        try repo.commit("model", files: Self.files())
        try repo.git(["checkout", "-q", "-b", "release"])
        try repo.commit("release it", files: ["quality.json": GateFlowTests.quality(0.91)])
        try repo.git(["checkout", "-q", "main"])
        let dir = TemporaryDirectory(prefix: "sluice-controller")
        let config = dir.write("controller.yaml", "listen: 127.0.0.1:0\ninterval: 1s\nrepositories:\n  - { name: iris, url: \(repo.path), branch: release, merge-requests: false }\n")
        let watch = try BackgroundProcess(sluice, ["watch", "--config", config, "--state", dir.path + "/state"], readyPrefix: "sluice: listening on 127.0.0.1:")
        try waitUntil("release promoted") { try runs(dir.path + "/state", repo.path).first?["verdict"] as? String == "promote" }
        withExtendedLifetime(watch) {}
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
                    if let r = try? ProcessRunner.run(sluice, ["runs", "--repo", repo.path, "--state", state.path]) { results.withLock { $0.append(r) } }
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
        let config = dir.write("controller.yaml", """
            listen: 127.0.0.1:0
            interval: 1s
            repositories:
              - name: iris
                url: \(repo.path)
                forge: { kind: github, project: acme/iris, api: \(fake.api("github")), token-env: SLUICE_TEST_FORGE_TOKEN }
            """)
        let watch = try BackgroundProcess(sluice, ["watch", "--config", config, "--state", dir.path + "/state"], readyPrefix: "sluice: listening on 127.0.0.1:",
                                          environment: ["SLUICE_TEST_FORGE_TOKEN": "forge-token-123456"])
        try waitUntil("the failing status") { try fake.statuses("github", commit: head).compactMap { $0["state"] as? String } == ["failure"] }
        let comment = try fake.comments("github", mergeRequest: 3).first?["body"] as? String ?? ""
        #expect(comment.contains("sluice.yaml is invalid"), "\(comment)")
        #expect(comment.contains("unknown key 'timout'"), "\(comment)")
        // Two more polls later it was reported once, not again on every poll.
        let base = "http://127.0.0.1:\(watch.readyLine.split(separator: ",")[0])"
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
