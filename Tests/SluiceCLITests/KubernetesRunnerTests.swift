import Foundation
import Testing
import SluiceTestSupport

/// Stages as Kubernetes Jobs (`runner: { kind: kubernetes }`) against the API emulator, whose
/// kubelet runs pods as local processes: the image `python:3.12` maps to this machine's
/// commands, `sluice-under-test` to the freshly built `sluice` (Sluice's own containers).
@Suite struct KubernetesRunnerTests {
    let sluice = RepositoryLayout.sluiceBinary
    static let sluiceImage = "sluice-under-test"

    static func emulator(capacity: String? = nil) throws -> KubeEmulator {
        let bin = (RepositoryLayout.sluiceBinary as NSString).deletingLastPathComponent
        return try KubeEmulator(minor: 33, namespace: "ml", images: ["python:3.12": "", sluiceImage: bin], nodeCapacity: capacity)
    }

    static func environment(_ k: KubeEmulator, _ extra: [String: String] = [:]) -> [String: String] {
        ["KUBECONFIG": k.kubeconfig, "SLUICE_IMAGE": sluiceImage].merging(extra) { _, b in b }
    }

    static let runner = "runner: { kind: kubernetes, image: \"python:3.12\", pendingTimeout: 2s, ttlSecondsAfterFinished: 600 }\n"

    func run(_ repo: TestRepository, _ state: TemporaryDirectory, _ k: KubeEmulator, _ extra: [String] = [], env: [String: String] = [:]) throws -> ProcessResult {
        try ProcessRunner.run(sluice, ["run", "--repo", repo.path, "--state", state.path] + extra, environment: Self.environment(k, env))
    }

    func logs(_ state: TemporaryDirectory, _ repo: TestRepository, run: Int = 1, _ stage: String) throws -> String {
        try ProcessRunner.run(sluice, ["logs", "--repo", repo.path, "--state", state.path, String(run), stage]).stdout
    }

    /// The objects as the server holds them, checked against Kubernetes 1.33's published schemas
    /// (kubernetes-validate, strict: no field the schema does not declare).
    static func validate(_ k: KubeEmulator, _ kinds: [String]) throws {
        let folder = TemporaryDirectory(prefix: "sluice-objects")
        for kind in kinds {
            let names = try k.kubectl(["-n", "ml", "get", kind, "-o", "name"]).stdout.split(separator: "\n")
            for name in names {
                let yaml = try k.kubectl(["-n", "ml", "get", String(name), "-o", "yaml"])
                _ = folder.write(name.replacingOccurrences(of: "/", with: "-") + ".yaml", yaml.stdout)
            }
        }
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).map { folder.path + "/" + $0 }
        #expect(!files.isEmpty)
        let checked = try ProcessRunner.run("kubernetes-validate", ["--strict", "-k", "1.33.0"] + files)
        #expect(checked.status == 0, "\(checked.stdout)\n\(checked.stderr)")
    }

    /// Which of `access` ("verb resource group namespace", as the emulator records them) the
    /// ClusterRole `role` in manifests/10-rbac.yaml does not allow.
    static func notAllowed(_ access: [String], byRole role: String) throws -> [String] {
        let r = try ProcessRunner.run("python3", ["-c", """
            import sys, yaml
            rules = next(d for d in yaml.safe_load_all(open(sys.argv[1])) if d and d["kind"] == "ClusterRole" and d["metadata"]["name"] == sys.argv[2])["rules"]
            for line in sys.stdin.read().splitlines():
                verb, resource, group, _ = line.split(" ")
                if not any(group in r["apiGroups"] and resource in r["resources"] and verb in r["verbs"] for r in rules):
                    print(line)
            """, RepositoryLayout.root() + "/manifests/10-rbac.yaml", role], input: access.joined(separator: "\n") + "\n")
        #expect(r.status == 0, "\(r.stderr)")
        return r.stdout.split(separator: "\n").map(String.init)
    }

    @Test func stagesRunAsJobsWithOutputsMetricsAndMaskedSecrets() throws {
        let k = try Self.emulator()
        let repo = try TestRepository()
        let keys = try ModelSigningTests.signingKey()
        try repo.commit("pipeline", files: [
            "policy.yaml": "rules:\n  - { metric: accuracy, direction: higher, min: 0.5 }\n",
            "sluice.yaml": "version: 1\n" + Self.runner + """
                stages:
                  prepare:
                    run: mkdir -p features && echo "rows 3" > features/table.txt && echo prepared
                    outputs: [features/]
                  train:
                    needs: [prepare]
                    run: |
                      cat features/table.txt
                      echo "token is $WANDB_API_KEY, workspace $SLUICE_WORKSPACE"
                      python3 -c 'import json; json.dump({"accuracy": 0.93}, open("metrics.json", "w"))'
                      mkdir -p model && echo weights > model/w.bin
                    secrets: [WANDB_API_KEY]
                    outputs: [model/]
                    metrics: metrics.json
                    resources: { cpu: 500m, memory: 256Mi }
                gate: { policy: policy.yaml, model: jobs, artifact: model/, signing: { key: \(keys.path)/signing.pem } }
                """,
        ])
        let state = TemporaryDirectory(prefix: "sluice-state")
        let secret = "wandb-0123456789abcdef"
        let result = try run(repo, state, k, env: ["WANDB_API_KEY": secret])
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
        // Every request the runner made is one the role manifests/ gives it allows (a real API
        // server would answer anything else 403; the emulator does not check roles).
        let access = try #require(k.stats()["access"] as? [String: Any]).keys.filter { $0.hasSuffix(" ml") }.sorted()
        #expect(access.contains("watch pods  ml") && access.contains("watch jobs batch ml"), "\(access)")
        let refused = try Self.notAllowed(access, byRole: "sluice-stage-runner")
        #expect(refused.isEmpty, "manifests/10-rbac.yaml's sluice-stage-runner does not allow \(refused)")

        // The stage read what the stage it needs produced, in its own pod; its outputs came back.
        let train = try logs(state, repo, "train")
        #expect(train.contains("out rows 3") && train.contains("workspace /workspace"), "\(train)")
        #expect(train.contains("token is ***") && !train.contains(secret), "\(train)")
        #expect(train.contains("stored model/ as sha256:"), "\(train)")
        let report = try ProcessRunner.run(sluice, ["runs", "--repo", repo.path, "--state", state.path, "--format", "json"])
        #expect(report.stdout.contains("succeeded"), "\(report.stdout)")

        // The secret's value is in the run's Secret (deleted with the run), never in the pod spec.
        let job = try k.kubectl(["-n", "ml", "get", "jobs", "-l", "sluice.dev/stage=train", "-o", "json"]).stdout
        #expect(!job.contains(secret) && job.contains("secretKeyRef") && job.contains("WANDB_API_KEY"), "\(job)")
        #expect(job.contains("\"memory\": \"256Mi\""), "\(job)")
        #expect(try k.kubectl(["-n", "ml", "get", "secrets", "-o", "name"]).stdout.isEmpty, "the run's Secret is deleted when the run ends")

        // The real kubectl reads the emulator's Jobs, pods and logs.
        let listed = try k.kubectl(["-n", "ml", "get", "jobs,pods"])
        #expect(listed.stdout.contains("job.batch/sluice-r1-train-") && listed.stdout.contains("pod/sluice-r1-prepare-"), "\(listed.stdout)\(listed.stderr)")
        let name = try k.kubectl(["-n", "ml", "get", "jobs", "-l", "sluice.dev/stage=train", "-o", "name"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let waited = try k.kubectl(["-n", "ml", "wait", "--for=condition=complete", name, "--timeout=10s"])
        #expect(waited.status == 0, "\(waited.stdout)\(waited.stderr)")
        let pod = try k.kubectl(["-n", "ml", "get", "pods", "-l", "sluice.dev/stage=train", "-o", "name"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let kubectlLogs = try k.kubectl(["-n", "ml", "logs", pod, "-c", "stage"])
        #expect(kubectlLogs.stdout.contains("rows 3"), "\(kubectlLogs.stdout)\(kubectlLogs.stderr)")
        try Self.validate(k, ["jobs", "pods"])

        // The provenance names the image each stage ran in by the digest the kubelet reported.
        let imageID = try k.kubectl(["-n", "ml", "get", pod, "-o", "jsonpath={.status.containerStatuses[?(@.name=='stage')].imageID}"]).stdout
        #expect(imageID.hasPrefix("docker.io/library/python@sha256:"), "\(imageID)")
        let provenance = try ProcessRunner.run("python3", ["-c", """
            import base64, json, sqlite3, sys
            (content,) = sqlite3.connect(sys.argv[1]).execute("select content from reports where kind = 'provenance'").fetchone()
            statement = json.loads(base64.b64decode(json.loads(content)["payload"]))
            for d in statement["predicate"]["buildDefinition"]["resolvedDependencies"][1:]:
                print(d["name"], d.get("uri"), d["digest"]["sha256"])
            """, state.path + "/sluice.sqlite"])
        let digest = String(imageID.split(separator: ":").last ?? "")
        #expect(provenance.stdout == "image of stage prepare oci://docker.io/library/python \(digest)\nimage of stage train oci://docker.io/library/python \(digest)\n",
                "\(provenance.stdout)\(provenance.stderr)")
    }

    @Test func aPodThatCannotRunSaysWhyInWords() throws {
        let k = try Self.emulator(capacity: "cpu=4,memory=8Gi,nvidia.com/gpu=1")
        let repo = try TestRepository()
        try repo.commit("pipeline", files: [
            "sluice.yaml": "version: 1\n" + Self.runner + """
                stages:
                  gpus: { run: nvidia-smi, resources: { gpu: 2, memory: 1Gi }, nodeSelector: { kubernetes.io/os: linux } }
                  pull: { run: "true", image: "registry.example.com/team/no-such-image:1" }
                """,
        ])
        let state = TemporaryDirectory(prefix: "sluice-state")
        let result = try run(repo, state, k)
        #expect(result.status == 1, "\(result.stdout)\n\(result.stderr)")
        let gpus = try logs(state, repo, "gpus")
        #expect(gpus.contains("cannot be scheduled (Unschedulable)") && gpus.contains("Insufficient nvidia.com/gpu"), "\(gpus)")
        #expect(gpus.contains("did not start within 2s") && gpus.contains("the Job was deleted"), "\(gpus)")
        let pull = try logs(state, repo, "pull")
        #expect(pull.contains("image 'registry.example.com/team/no-such-image:1' cannot be pulled"), "\(pull)")
        #expect(try k.kubectl(["-n", "ml", "get", "jobs", "-o", "name"]).stdout.isEmpty, "both Jobs are deleted")
        // The GPU request reached the pod spec as Kubernetes takes it: a limit.
        let status = try ProcessRunner.run(sluice, ["runs", "--repo", repo.path, "--state", state.path])
        #expect(status.stdout.contains("failed"), "\(status.stdout)")
    }

    @Test func outOfMemoryIsReportedWithTheLimit() throws {
        let k = try Self.emulator()
        let repo = try TestRepository()
        try repo.commit("pipeline", files: [
            "sluice.yaml": "version: 1\n" + Self.runner + """
                stages:
                  train:
                    run: python3 -c 'import time; x = bytearray(400 * 1024 * 1024); time.sleep(30)'
                    resources: { memory: 64Mi }
                """,
        ])
        let state = TemporaryDirectory(prefix: "sluice-state")
        let result = try run(repo, state, k)
        #expect(result.status == 1)
        let log = try logs(state, repo, "train")
        #expect(log.contains("ran out of memory") && log.contains("limit of 64Mi") && log.contains("OOMKilled"), "\(log)")
    }

    @Test func timeoutAndCancellationDeleteTheJobAndItsProcesses() throws {
        let k = try Self.emulator()
        let scratch = TemporaryDirectory(prefix: "sluice-pids")
        let repo = try TestRepository()
        try repo.commit("pipeline", files: [
            "sluice.yaml": "version: 1\n" + Self.runner + """
                stages:
                  slow: { run: "echo $$ > \(scratch.path)/slow.pid; sleep 60", timeout: 2s }
                """,
        ])
        let state = TemporaryDirectory(prefix: "sluice-state")
        let timedOut = try run(repo, state, k)
        #expect(timedOut.status == 1)
        let log = try logs(state, repo, "slow")
        #expect(log.contains("timed out after 2s") && log.contains("DeadlineExceeded"), "\(log)")
        let pid = try #require(Int32(try String(contentsOfFile: scratch.path + "/slow.pid", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        try waitUntil("the timed-out stage's process to be killed", timeout: 10) { kill(pid, 0) != 0 }

        // Ctrl-C (SIGTERM) on `sluice run`: the Job is deleted, its processes end, the run is cancelled.
        try FileManager.default.removeItem(atPath: scratch.path + "/slow.pid")
        try repo.commit("longer", files: ["sluice.yaml": "version: 1\n" + Self.runner + "stages:\n  slow: { run: \"echo $$ > \(scratch.path)/slow.pid; sleep 60\" }\n"])
        let running = try BackgroundProcess(sluice, ["run", "--repo", repo.path, "--state", state.path], environment: Self.environment(k))
        try waitUntil("the stage to start in its pod") { FileManager.default.fileExists(atPath: scratch.path + "/slow.pid") }
        kill(running.pid, SIGTERM)
        _ = try Self.exitStatus(running.pid)
        let second = try #require(Int32(try String(contentsOfFile: scratch.path + "/slow.pid", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(kill(second, 0) != 0, "the stage's process is gone once sluice run has returned")
        #expect(try k.kubectl(["-n", "ml", "get", "jobs", "-o", "name"]).stdout.contains("sluice-r2-") == false, "the cancelled run's Job is deleted")
        let cancelled = try ProcessRunner.run(sluice, ["runs", "--repo", repo.path, "--state", state.path])
        #expect(cancelled.stdout.contains("cancelled"), "\(cancelled.stdout)")
    }

    @Test func aControllerKilledDuringAJobReattachesAndTheStageRunsOnce() throws {
        let k = try Self.emulator()
        let scratch = TemporaryDirectory(prefix: "sluice-reattach")
        let repo = try TestRepository()
        try repo.commit("pipeline", files: [
            "sluice.yaml": "version: 1\n" + Self.runner + """
                stages:
                  train:
                    run: |
                      echo started >> \(scratch.path)/starts
                      while [ ! -f \(scratch.path)/go ]; do sleep 0.05; done
                      mkdir -p model && echo trained > model/w.bin
                      echo finished
                    outputs: [model/]
                """,
        ])
        let state = TemporaryDirectory(prefix: "sluice-state")
        // A fixed address: the pod's collector finds the restarted Sluice where it found the first.
        let port = try FreePort.next()
        let env = Self.environment(k, ["SLUICE_POD_ENDPOINT_LISTEN": "127.0.0.1:\(port)"])
        let first = try BackgroundProcess(sluice, ["run", "--repo", repo.path, "--state", state.path], environment: env)
        try waitUntil("the stage to start in its pod") { FileManager.default.fileExists(atPath: scratch.path + "/starts") }
        kill(first.pid, SIGKILL)
        first.stop()

        let second = try BackgroundProcess(sluice, ["run", "--repo", repo.path, "--state", state.path], environment: env,
                                           stderrFile: scratch.path + "/second.log")
        try waitUntil("the restarted run to re-attach") {
            (try? logs(state, repo, run: 2, "train"))?.contains("re-attached to Job ml/sluice-r1-train-") == true
        }
        FileManager.default.createFile(atPath: scratch.path + "/go", contents: Data())
        let status = try Self.exitStatus(second.pid)
        let secondLog = try String(contentsOfFile: scratch.path + "/second.log", encoding: .utf8)
        #expect(status == 0, "\(secondLog)")
        let starts = try String(contentsOfFile: scratch.path + "/starts", encoding: .utf8)
        #expect(starts == "started\n", "the stage ran once: \(starts)")
        #expect(try k.stats()["pods_created"] as? Int == 1)
        let log = try logs(state, repo, run: 2, "train")
        #expect(log.contains("out finished") && log.contains("stored model/ as sha256:"), "\(log)\n\(secondLog)")
    }

    @Test func aMergeRequestStageGetsTheNoRightsServiceAccountAndNoSecrets() throws {
        let k = try Self.emulator()
        let repo = try TestRepository()
        let spec = "version: 1\nrunner: { kind: kubernetes, image: \"python:3.12\", serviceAccount: trainer }\nstages:\n  test: { run: \"echo key=${API_KEY:-none}\", secrets: [API_KEY] }\n"
        try repo.commit("main", files: ["sluice.yaml": spec])
        let head = try repo.commit("proposal", files: ["README.md": "change\n"])
        try repo.git(["update-ref", "refs/pull/4/head", head])
        let state = TemporaryDirectory(prefix: "sluice-state")
        let mr = try run(repo, state, k, ["--ref", "refs/pull/4/head", "--commit", head], env: ["API_KEY": "k-secret-value"])
        #expect(mr.status == 0, "\(mr.stdout)\n\(mr.stderr)")
        #expect(try logs(state, repo, "test").contains("out key=none"))
        let job = try k.kubectl(["-n", "ml", "get", "jobs", "-o", "json"]).stdout
        #expect(job.contains("\"serviceAccountName\": \"sluice-untrusted\"") && job.contains("\"automountServiceAccountToken\": false"), "\(job)")
        #expect(!job.contains("trainer") && !job.contains("\"key\": \"API_KEY\""), "\(job)")

        // The production branch's run uses the stages' own account, with its token, and the secret.
        let main = try run(repo, state, k, ["--ref", "main", "--commit", head], env: ["API_KEY": "k-secret-value"])
        #expect(main.status == 0, "\(main.stdout)\n\(main.stderr)")
        #expect(try logs(state, repo, run: 2, "test").contains("out key=***"))
        let jobs = try k.kubectl(["-n", "ml", "get", "jobs", "-l", "sluice.dev/run=2", "-o", "json"]).stdout
        #expect(jobs.contains("\"serviceAccountName\": \"trainer\"") && jobs.contains("\"automountServiceAccountToken\": true"), "\(jobs)")
        try Self.validate(k, ["jobs", "pods"])
    }

    /// Waits (at most a minute) for a child to exit; its exit code, nil when it did not.
    static func exitStatus(_ pid: pid_t) throws -> Int32? {
        var status: Int32 = 0
        var exited = false
        try waitUntil("process \(pid) to exit", timeout: 60) {
            exited = waitpid(pid, &status, WNOHANG) == pid
            return exited
        }
        return exited ? (status >> 8) & 0xff : nil
    }

}

extension KubernetesRunnerTests {
    /// examples/iris with `--runner kubernetes`: lint, tests and training in Jobs, the model and
    /// metrics back from the pods, gated, promoted and deployed (to the branch target) as on the
    /// local runner; built-in data validation runs in Sluice itself.
    @Test func theIrisExampleTrainsInJobsAndIsPromotedAndDeployed() throws {
        let k = try Self.emulator()
        let staging = try IrisStagingPrometheus()
        let repo = try TestRepository()
        try ProcessRunner.run("cp", ["-R", RepositoryLayout.root() + "/examples/iris/.", repo.path])
        repo.write("sluice.yaml", staging.adapt(try String(contentsOfFile: repo.path + "/sluice.yaml", encoding: .utf8)))
        try repo.commit("iris: first model")
        let state = TemporaryDirectory(prefix: "sluice-state")
        let result = try run(repo, state, k, ["--runner", "kubernetes"], env: ["SLUICE_STAGE_IMAGE": "python:3.12"].merging(staging.environment) { a, _ in a })
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
        #expect(result.stdout.contains("gate: promote") && result.stdout.contains("is now in production"), "\(result.stdout)")
        #expect(result.stdout.contains("environments: in production"), "through staging (its smoke test ran here) to production: \(result.stdout)")
        let train = try logs(state, repo, "train")
        #expect(train.contains("Job ml/sluice-r1-train-") && train.contains("stored model/ as sha256:"), "\(train)")
        let evaluate = try logs(state, repo, "evaluate")
        #expect(evaluate.contains("Job ml/sluice-r1-evaluate-"), "\(evaluate)")
        let jobs = try k.kubectl(["-n", "ml", "get", "jobs", "-o", "name"]).stdout
        for stage in ["lint", "test", "train", "evaluate"] { #expect(jobs.contains("job.batch/sluice-r1-\(stage)-"), "\(jobs)") }
        #expect(!jobs.contains("validate"), "validate-data runs in Sluice: \(jobs)")
        // Staging served the trained model (its files restored into the check's checkout), replayed
        // the flowers through it, and Prometheus's record of that traffic passed the analysis.
        let steps = try ProcessRunner.run(sluice, ["environments", "--repo", repo.path, "--state", state.path]).stdout
        #expect(steps.contains("version 1  staging  verified  smoke passed, error-rate passed"), "\(steps)")
        // The smoke test ran as a Job too (the pipeline's runner), on the version's own model files.
        #expect(result.stdout.contains("check smoke passed: Job ml/sluice-r1-verify-staging-smoke-") && result.stdout.contains("answered 150 flowers"),
                "\(result.stdout)")
        let charts = TemporaryDirectory(prefix: "sluice-charts")
        let report = try ProcessRunner.run(sluice, ["report", "--repo", repo.path, "--state", state.path, "1", "--charts", charts.path])
        #expect(report.stdout.contains("accuracy"), "\(report.stdout)")
        // The evaluate pod sent its plot files back with the metrics: a confusion matrix of the 45
        // test flowers and a ROC curve, drawn with the staging analysis's measurements.
        let confusion = try String(contentsOfFile: charts.path + "/evaluate-Confusion_matrix.svg", encoding: .utf8)
        let counts = confusion.components(separatedBy: "data-count=\"").dropFirst().compactMap { Int($0.prefix { $0.isNumber }) }
        #expect(counts.count == 9 && counts.reduce(0, +) == 45, "\(counts)")
        #expect(FileManager.default.fileExists(atPath: charts.path + "/evaluate-ROC_of_virginica_against_the_rest.svg"))
        #expect(FileManager.default.fileExists(atPath: charts.path + "/environment_staging-error-rate.svg"), "\(report.stderr)")
        try Self.validate(k, ["jobs", "pods"])
    }
}

extension KubernetesRunnerTests {
    /// The log stream ends while the stage still runs (an API server restart): Sluice reopens it
    /// from the last line's time, and every line is in the stage log exactly once.
    @Test func aCutLogStreamIsReopenedWithoutLosingOrRepeatingLines() throws {
        let k = try Self.emulator()
        let scratch = TemporaryDirectory(prefix: "sluice-logs")
        let repo = try TestRepository()
        try repo.commit("pipeline", files: [
            "sluice.yaml": "version: 1\n" + Self.runner + """
                stages:
                  talk:
                    run: |
                      for i in 1 2 3; do echo line-$i; done
                      while [ ! -f \(scratch.path)/go ]; do sleep 0.05; done
                      for i in 4 5 6; do echo line-$i; done
                """,
        ])
        let state = TemporaryDirectory(prefix: "sluice-state")
        let running = try BackgroundProcess(sluice, ["run", "--repo", repo.path, "--state", state.path], environment: Self.environment(k))
        let log = state.path + "/logs/run-1/talk.log"
        try waitUntil("the first lines in the stage log") { ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").contains("line-3") }
        try k.hook("cut-logs")
        FileManager.default.createFile(atPath: scratch.path + "/go", contents: Data())
        #expect(try Self.exitStatus(running.pid) == 0)
        let text = try String(contentsOfFile: log, encoding: .utf8)
        for i in 1...6 {
            #expect(text.components(separatedBy: "out line-\(i)\n").count == 2, "line-\(i) exactly once:\n\(text)")
        }
    }

    @Test func anEvictedPodIsReportedWithTheKubeletsReason() throws {
        let k = try Self.emulator()
        let scratch = TemporaryDirectory(prefix: "sluice-evict")
        let repo = try TestRepository()
        try repo.commit("pipeline", files: [
            "sluice.yaml": "version: 1\n" + Self.runner + "stages:\n  train: { run: \"touch \(scratch.path)/started; sleep 60\" }\n",
        ])
        let state = TemporaryDirectory(prefix: "sluice-state")
        let running = try BackgroundProcess(sluice, ["run", "--repo", repo.path, "--state", state.path], environment: Self.environment(k))
        try waitUntil("the stage to start") { FileManager.default.fileExists(atPath: scratch.path + "/started") }
        let pod = try k.kubectl(["-n", "ml", "get", "pods", "-o", "jsonpath={.items[0].metadata.name}"]).stdout
        try k.hook("evict/ml/\(pod)")
        #expect(try Self.exitStatus(running.pid) == 1)
        let text = try logs(state, repo, "train")
        #expect(text.contains("the pod failed: Evicted: The node was low on resource: memory"), "\(text)")
    }
}

extension KubernetesRunnerTests {
    func runs(_ state: String) throws -> [[String: Any]] {
        let out = try ProcessRunner.run(sluice, ["runs", "--all", "--state", state, "--format", "json"]).stdout
        return ((try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [[String: Any]]) ?? []).compactMap { $0["run"] as? [String: Any] }
    }

    /// Under `sluice watch` the pod endpoint is the controller's own listener. A newer commit
    /// supersedes the run whose Job is running: that Job is deleted; the newer commit's stage
    /// runs in its pod and sends its output back.
    @Test func theControllerServesPodsAndASupersededRunsJobIsDeleted() throws {
        let k = try Self.emulator()
        let repo = try TestRepository()
        let spec = "version: 1\n" + Self.runner + "stages:\n  work: { run: \"if grep -q slow mode; then sleep 60; fi; echo done > out.txt\", outputs: [out.txt] }\n"
        try repo.commit("slow", files: ["sluice.yaml": spec, "mode": "slow\n"])
        let dir = TemporaryDirectory()
        let config = dir.write("controller.yaml", "listen: 127.0.0.1:0\ninterval: 1s\nrepositories:\n  - { name: s, url: \(repo.path) }\n")
        let state = dir.path + "/state"
        let watch = try BackgroundProcess(sluice, ["watch", "--config", config, "--state", state], readyPrefix: "sluice: listening on 127.0.0.1:",
                                          environment: Self.environment(k), stderrFile: dir.path + "/controller.log")
        try waitUntil("run 1's Job") { try k.kubectl(["-n", "ml", "get", "jobs", "-o", "name"]).stdout.contains("sluice-r1-work-") }
        try repo.commit("fast", files: ["mode": "fast\n"])
        try waitUntil("run 2 to succeed") { try runs(state).contains { $0["id"] as? Int == 2 && $0["status"] as? String == "succeeded" } }
        let first = try #require(try runs(state).first { $0["id"] as? Int == 1 })
        #expect(first["status"] as? String == "cancelled", "\(first)")
        let jobs = try k.kubectl(["-n", "ml", "get", "jobs", "-o", "name"]).stdout
        #expect(!jobs.contains("sluice-r1-work-") && jobs.contains("sluice-r2-work-"), "the superseded run's Job is deleted: \(jobs)")
        let log = try ProcessRunner.run(sluice, ["logs", "--state", state, "--repo", repo.path, "2", "work"]).stdout
        let controllerLog = try String(contentsOfFile: dir.path + "/controller.log", encoding: .utf8)
        #expect(log.contains("stored out.txt"), "\(log)\n\(controllerLog)")
        // The run page names the Job that ran the stage.
        let base = "http://127.0.0.1:\(watch.readyLine.split(separator: ",")[0])"
        let page = try ProcessRunner.run("curl", ["-s", base + "/runs/2"]).stdout
        #expect(page.contains("Job <code>ml/sluice-r2-work-"), "\(page)")
        watch.stop()
    }
}
