import Foundation
import Testing
import SluiceCore
import SluiceGit
import SluiceTestSupport
@testable import SluiceController

/// `runner:` and the pod keys of a stage: decoding, located errors, the Job a stage becomes,
/// and the image in a Kubernetes stage's cache key.
@Suite struct RunnerSpecTests {
    func check(_ text: String) -> SpecLoader.Result {
        SpecLoader.load(bytes: Array(text.utf8), file: "sluice.yaml", paths: nil)
    }

    func lines(_ r: SpecLoader.Result) -> [String] {
        DiagnosticRenderer.sorted(r.diagnostics).map(DiagnosticRenderer.line)
    }

    static let kubernetes = "version: 1\nrunner: { kind: kubernetes, namespace: ml, image: \"python:3.12\", serviceAccount: trainer, pendingTimeout: 2m }\n"

    @Test func resourcesShorthandsSetRequestAndLimitAndGPUsAreLimits() throws {
        let r = check(Self.kubernetes + """
            stages:
              train:
                run: python train.py
                image: ghcr.io/acme/train:1
                resources: { cpu: 2, memory: 4Gi, gpu: 1 }
                nodeSelector: { pool: gpu }
                tolerations: [ { key: nvidia.com/gpu, operator: Exists, effect: NoSchedule } ]
              eval:
                run: python eval.py
                resources: { requests: { cpu: 500m, memory: 512Mi }, limits: { memory: 1Gi } }
            """)
        #expect(lines(r).isEmpty)
        let spec = try #require(r.spec)
        #expect(spec.runner.kind == .kubernetes && spec.runner.namespace == "ml" && spec.runner.pendingTimeoutSeconds == 120)
        let train = try #require(spec.stage(named: "train"))
        #expect(train.pod.image == "ghcr.io/acme/train:1")
        #expect(train.pod.requests == [KeyValue("cpu", "2"), KeyValue("memory", "4Gi")])
        #expect(train.pod.limits == [KeyValue("cpu", "2"), KeyValue("memory", "4Gi"), KeyValue("nvidia.com/gpu", "1")])
        #expect(train.pod.nodeSelector == [KeyValue("pool", "gpu")])
        #expect(train.pod.tolerations == [Toleration(key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule")])
        let eval = try #require(spec.stage(named: "eval"))
        #expect(eval.pod.requests == [KeyValue("cpu", "500m"), KeyValue("memory", "512Mi")])
        #expect(eval.pod.limits == [KeyValue("memory", "1Gi")])
    }

    @Test func aBadQuantityIsALocatedErrorWithAnExample() {
        let r = check(Self.kubernetes + "stages:\n  train:\n    run: x\n    resources: { memory: 4 gigs, cpu: lots }\n")
        let l = lines(r)
        #expect(r.spec == nil)
        #expect(l.contains { $0.contains("sluice.yaml:6:26") && $0.contains("'4 gigs' is not a Kubernetes quantity") && $0.contains("4Gi") }, "\(l)")
        #expect(l.contains { $0.contains("'lots' is not a Kubernetes quantity") && $0.contains("500m") }, "\(l)")
    }

    @Test func aGPUOnTheLocalRunnerIsAnErrorThatSaysWhatToDo() {
        let r = check("version: 1\nstages:\n  train:\n    run: x\n    resources: { gpu: 1 }\n")
        let l = lines(r)
        #expect(r.spec == nil)
        #expect(l.contains { $0.contains("sluice.yaml:5:23") && $0.contains("requests a GPU, but stages run on the local runner") && $0.contains("kind: kubernetes") }, "\(l)")
        // Placement keys are only warned about there: the same file runs on a laptop.
        let local = check("version: 1\nstages:\n  train:\n    run: x\n    image: python:3.12\n")
        #expect(local.spec != nil && lines(local).contains { $0.contains("only used by the Kubernetes runner") })
    }

    @Test func inconsistentResourcesAndTolerationsAreRefused() {
        let l = lines(check(Self.kubernetes + """
            stages:
              a: { run: x, resources: { requests: { memory: 2Gi }, limits: { memory: 1Gi } } }
              b: { run: x, resources: { gpu: 0.5 } }
              c: { run: x, tolerations: [ { key: k, operator: Exist } ] }
              d: { run: x, resources: { requests: { gpu: 1 }, limits: { gpu: 2 } } }
            """))
        #expect(l.contains { $0.contains("requests memory 2Gi, more than its limit 1Gi") }, "\(l)")
        #expect(l.contains { $0.contains("GPUs are whole devices") }, "\(l)")
        #expect(l.contains { $0.contains("unknown toleration operator 'Exist'") && $0.contains("Exists") }, "\(l)")
        #expect(l.contains { $0.contains("requests 1 GPUs but limits them to 2") }, "\(l)")
    }

    @Test func quantitiesAreReadAsTheAPIServerReadsThem() {
        #expect(Quantity.value("500m") == 0.5)
        #expect(Quantity.value("4Gi") == 4_294_967_296)
        #expect(Quantity.value("1.5G") == 1.5e9)
        #expect(Quantity.value("1e3") == 1000)
        #expect(Quantity.value("2") == 2)
        for bad in ["4 gigs", "", "Gi", "1.2.3", "-1", "4gb", "1e", "..5", "1e9999"] { #expect(Quantity.value(bad) == nil, "\(bad)") }
    }

    @Test func theJobNamesSecretsByReferenceAndCarriesTheStagesShape() throws {
        let spec = try #require(check(Self.kubernetes + """
            stages:
              train:
                run: python train.py
                resources: { memory: 1Gi, gpu: 1 }
                timeout: 30m
                secrets: [WANDB_API_KEY]
            """).spec)
        var job = StageJob(name: "sluice-r7-train-abcd1234", namespace: "ml", labels: StageJob.labels(repository: "https://git.example.com/acme/iris.git", run: 7, stage: "train", commit: String(repeating: "a", count: 40)),
                           stage: spec.stages[0], image: "python:3.12", sluiceImage: "ghcr.io/sluice-ml/sluice:0.1.0", endpoint: "http://sluice.sluice-system:8080",
                           secretName: "sluice-r7-x", tokenKey: StageJob.tokenKey(stage: "train"), variables: ["SLUICE_RUN_ID": "7"], ttlSecondsAfterFinished: 600)
        job.secretVariables = ["WANDB_API_KEY"]
        job.owner = StageJob.Owner(name: "sluice-r7-x", uid: "u-1")
        let object = job.object()
        let text = String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
        let jobSpec = try #require(object["spec"] as? [String: Any])
        #expect(jobSpec["backoffLimit"] as? Int == 0 && jobSpec["activeDeadlineSeconds"] as? Int == 1800 && jobSpec["ttlSecondsAfterFinished"] as? Int == 600)
        #expect(text.contains(#""limits":{"memory":"1Gi","nvidia.com\/gpu":"1"}"#), "\(text)")
        #expect(text.contains(#"{"name":"WANDB_API_KEY","valueFrom":{"secretKeyRef":{"key":"WANDB_API_KEY","name":"sluice-r7-x"}}}"#), "\(text)")
        #expect(text.contains(#""ownerReferences":[{"apiVersion":"v1","kind":"Secret","name":"sluice-r7-x","uid":"u-1"}]"#), "\(text)")
        #expect(text.contains(#""automountServiceAccountToken":false"#), "\(text)")
        let labels = try #require((object["metadata"] as? [String: Any])?["labels"] as? [String: String])
        #expect(labels["sluice.dev/repository"] == "https---git-example-com-acme-iris-git" && labels["sluice.dev/run"] == "7")
        #expect(labels.values.allSatisfy { $0.count <= 63 })
        #expect(StageJob.name(run: 123_456_789, stage: String(repeating: "Very_Long Stage!", count: 8), unique: "0123456789abcdef").count <= 63)
    }

    @Test func theImageIsPartOfAKubernetesStagesCacheKey() throws {
        let repo = try TestRepository()
        func key(_ yaml: String) throws -> String {
            _ = try repo.commit("spec", files: ["sluice.yaml": yaml])
            let plan = try #require(try CommitPlanner(repository: GitRepository(path: repo.path)).plan().plan)
            return plan.stages[0].cacheKey
        }
        let a = try key(Self.kubernetes + "stages:\n  train: { run: x, when: { paths: [src/**] } }\n")
        let b = try key(Self.kubernetes.replacingOccurrences(of: "python:3.12", with: "python:3.13") + "stages:\n  train: { run: x, when: { paths: [src/**] } }\n")
        #expect(a != b)
        // The same spec run here: the image is not the stage's environment, so not in the key.
        let localA = try key("version: 1\nstages:\n  train: { run: x, when: { paths: [src/**] } }\n")
        let localB = try key("version: 1\nrunner: { kind: local }\nstages:\n  train: { run: x, when: { paths: [src/**] } }\n")
        #expect(localA == localB)
    }
}
