import Foundation

/// The Kubernetes API emulator (`kube_emulator.py`) on 127.0.0.1, plus a kubeconfig
/// pointing at it. `minor` is the server version it reports, which also picks the
/// kubectl version the machine's kubectl dispatcher runs.
public final class KubeEmulator: @unchecked Sendable {
    public let server: PythonScriptServer
    public let directory = TemporaryDirectory(prefix: "sluice-kube")
    public let kubeconfig: String
    public var url: String { "http://127.0.0.1:\(server.port)" }

    public static var hasKubectl: Bool { ProcessRunner.has("kubectl") }

    public init(minor: Int = 32, namespace: String = "default", token: String = "test-token") throws {
        let script = try String(contentsOfFile: RepositoryLayout.root() + "/Tests/SluiceTestSupport/kube_emulator.py", encoding: .utf8)
        server = try PythonScriptServer(script: script, arguments: [String(minor)])
        kubeconfig = directory.write("kubeconfig", """
            apiVersion: v1
            kind: Config
            clusters: [ { name: emulator, cluster: { server: "http://127.0.0.1:\(server.port)" } } ]
            users: [ { name: tester, user: { token: \(token) } } ]
            contexts: [ { name: emulator, context: { cluster: emulator, user: tester, namespace: \(namespace) } } ]
            current-context: emulator
            """)
    }

    /// Runs the real kubectl against the emulator with a fresh discovery cache.
    public func kubectl(_ arguments: [String], input: String? = nil) throws -> ProcessResult {
        try ProcessRunner.run("kubectl", ["--kubeconfig", kubeconfig, "--cache-dir", directory.path + "/cache-\(UUID().uuidString.prefix(6))"] + arguments,
                              environment: ["KUBECONFIG": kubeconfig], input: input)
    }

    public func hook(_ path: String) throws {
        _ = try ProcessRunner.run("curl", ["-s", "-X", "POST", "\(url)/_emulator/\(path)"])
    }

    public func stats() throws -> [String: Any] {
        let r = try ProcessRunner.run("curl", ["-s", "\(url)/_emulator/stats"])
        return (try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]) ?? [:]
    }
}
