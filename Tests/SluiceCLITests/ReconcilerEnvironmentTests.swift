import Foundation
import Testing
import SluiceTestSupport

/// The environment half of the reconciler against the Kubernetes API emulator.
extension ReconcilerTests {
    static func kubernetesFiles(sync: String) -> [String: String] {
        var files = files()
        files["sluice.yaml"] = spec + "\ndeploy:\n  manifests: manifests/\n  target: kubernetes\n  environment: prod\n  namespace: ml\n  timeout: 60s\n" + sync
        files["manifests/app.yaml"] = KubernetesDeployTests.manifest()
        return files
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
        let (watch, base) = try controller(repo.url, in: dir, settings: ["merge-requests: false"], environment: ["KUBECONFIG": k.kubeconfig])
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
        var (watch, base) = try controller(repo.url, in: dir, settings: ["merge-requests: false"], environment: ["KUBECONFIG": k.kubeconfig])
        try waitUntil("version 1 deployed") { try condition(base, environment: "prod", "Deployed", "True", "UpToDate") }

        try k.hook("stall")
        try repo.commit("better model", files: ["quality.json": GateFlowTests.quality(0.95)])
        try waitUntil("the deploy of version 2 under way") { (try k.stats()["stalled"] as? Int ?? 0) >= 1 }
        kill(watch.pid, SIGKILL)
        watch.stop()
        try k.hook("release")
        let version = { try k.kubectl(["get", "deploy", "demo-server", "-n", "ml", "-o", "jsonpath={.spec.template.metadata.annotations.sluice\\.dev/version}"]).stdout }
        #expect(try version() == "1", "the crash left the cluster on version 1")

        (watch, base) = try controller(repo.url, in: dir, settings: ["merge-requests: false"], environment: ["KUBECONFIG": k.kubeconfig])
        try waitUntil("version 2 deployed by the restart") { try version() == "2" }
        try waitUntil("Deployed=True") { try condition(base, environment: "prod", "Deployed", "True", "UpToDate") }
        let promotions = try ProcessRunner.run(sluice, ["runs", "--repo", repo.url, "--state", dir.path + "/state", "--format", "json"]).stdout
        #expect(promotions.components(separatedBy: "\"verdict\" : \"promote\"").count - 1 <= 2, "version 2 was promoted once: \(promotions)")
        withExtendedLifetime(watch) {}
    }
}
