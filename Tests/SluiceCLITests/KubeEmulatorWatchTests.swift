import Foundation
import Testing
import SluiceTestSupport

/// The emulator's watch (`?watch=true` from a list's resourceVersion, by label or field
/// selector), which the Kubernetes runner waits on for a stage's Job and pod, read by the real
/// kubectl: each change once, in order, only for the selected objects.
@Suite struct KubeEmulatorWatchTests {
    func configMap(_ name: String, app: String, value: String) -> String {
        "apiVersion: v1\nkind: ConfigMap\nmetadata: { name: \(name), labels: { app: \(app) } }\ndata: { a: \"\(value)\" }\n"
    }

    @Test(.enabled(if: RequiredTools.run(whenPresent: KubeEmulator.hasKubectl), "kubectl is not installed: SKIPPED"), arguments: [27, 30, 33])
    func kubectlWatchesWhatChanges(minor: Int) throws {
        let k = try KubeEmulator(minor: minor, namespace: "ml")
        let dir = TemporaryDirectory()
        func apply(_ yaml: String) throws {
            let r = try k.kubectl(["apply", "--server-side", "-f", dir.write("o.yaml", yaml)])
            #expect(r.status == 0, "\(r.stderr)")
        }
        try apply(configMap("cfg", app: "w", value: "1"))
        let format = #"jsonpath={.type} {.object.metadata.name} {.object.data.a}{"\n"}"#
        let byName = try BackgroundProcess("kubectl", ["--kubeconfig", k.kubeconfig, "get", "configmaps", "--field-selector", "metadata.name=cfg",
                                                       "--watch", "--output-watch-events", "-o", format], readyPrefix: "ADDED cfg 1")
        let byLabel = try BackgroundProcess("kubectl", ["--kubeconfig", k.kubeconfig, "get", "configmaps", "-l", "app=w",
                                                        "--watch", "--output-watch-events", "-o", format], readyPrefix: "ADDED cfg 1")
        try apply(configMap("other", app: "x", value: "1"))
        try apply(configMap("cfg", app: "w", value: "2"))
        #expect(try k.kubectl(["delete", "configmap", "cfg"]).status == 0)
        for watch in [byName, byLabel] {
            // The next lines, whatever they are: the other object never shows, nothing comes twice.
            #expect(try watch.waitForLine(prefix: "") == "MODIFIED cfg 2")
            #expect(try watch.waitForLine(prefix: "") == "DELETED cfg 2")
        }
    }
}
