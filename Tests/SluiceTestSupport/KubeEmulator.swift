import Foundation

/// The Kubernetes API emulator (`kube_emulator.py`) on 127.0.0.1, plus a kubeconfig
/// pointing at it. `minor` is the server version it reports, which also picks the
/// kubectl version the machine's kubectl dispatcher runs.
public final class KubeEmulator: @unchecked Sendable {
    public let server: PythonScriptServer
    public let directory = TemporaryDirectory(prefix: "sluice-kube")
    public let kubeconfig: String
    /// The plain-HTTP address of the test hooks (TLS emulators answer only HTTPS).
    public var url: String { "http://127.0.0.1:\(server.port)" }

    public static var hasKubectl: Bool { ProcessRunner.has("kubectl") }

    /// - Parameters:
    ///   - namespace: the kubeconfig context's namespace; it exists from the start, as a
    ///     team's namespace does (others must be created, or objects in them get 404).
    ///   - tls: serve HTTPS with a certificate from a fresh test CA (openssl); the kubeconfig
    ///     trusts that CA, or a different one with `trustAnotherCA` (to test a mismatch).
    ///   - host: the host name the kubeconfig uses (the certificate names only 127.0.0.1, so
    ///     `localhost` is a host-name mismatch over TLS).
    ///   - images: images whose Jobs run for real, as local processes, each with a folder put
    ///     first on their PATH ("" for none); see `kube_kubelet.py`.
    ///   - nodeCapacity: the emulated node's allocatable resources, e.g. `cpu=8,memory=32Gi,nvidia.com/gpu=0`.
    public init(minor: Int = 32, namespace: String = "default", token: String = "test-token", tls: Bool = false,
                trustAnotherCA: Bool = false, host: String = "127.0.0.1", images: [String: String] = [:], nodeCapacity: String? = nil) throws {
        let script = RepositoryLayout.root() + "/Tests/SluiceTestSupport/kube_emulator.py"
        var arguments = [String(minor), "--namespaces=\(namespace)"]
        arguments += images.sorted { $0.key < $1.key }.map { "--image=\($0.key)=\($0.value)" }
        if let nodeCapacity { arguments.append("--node-capacity=\(nodeCapacity)") }
        var caLine = ""
        if tls {
            let d = directory.path
            func openssl(_ args: [String]) throws {
                let r = try ProcessRunner.run("openssl", args)
                guard r.status == 0 else { throw NSError(domain: "openssl", code: 1, userInfo: [NSLocalizedDescriptionKey: r.stderr]) }
            }
            for ca in ["ca", "other-ca"] {
                try openssl(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "\(d)/\(ca).key", "-out", "\(d)/\(ca).crt",
                             "-days", "1", "-subj", "/CN=sluice-\(ca)"])
            }
            try openssl(["req", "-newkey", "rsa:2048", "-nodes", "-keyout", "\(d)/server.key", "-out", "\(d)/server.csr", "-subj", "/CN=127.0.0.1"])
            _ = directory.write("ext", "subjectAltName=IP:127.0.0.1\n")
            try openssl(["x509", "-req", "-in", "\(d)/server.csr", "-CA", "\(d)/ca.crt", "-CAkey", "\(d)/ca.key", "-CAcreateserial",
                         "-out", "\(d)/server.crt", "-days", "1", "-extfile", "\(d)/ext"])
            arguments += ["\(d)/server.crt", "\(d)/server.key"]
            let ca = try Data(contentsOf: URL(fileURLWithPath: "\(d)/\(trustAnotherCA ? "other-ca" : "ca").crt"))
            caLine = ", certificate-authority-data: \(ca.base64EncodedString())"
        }
        server = try PythonScriptServer(path: script, arguments: arguments)
        kubeconfig = directory.write("kubeconfig", """
            apiVersion: v1
            kind: Config
            clusters: [ { name: emulator, cluster: { server: "\(tls ? "https" : "http")://\(host):\(server.port)"\(caLine) } } ]
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
