import Foundation

/// A real `mlflow server` (PyPI) on 127.0.0.1 with its own SQLite store and a local artifact
/// folder behind its artifact proxy (runs' artifact URIs are `mlflow-artifacts:/...`), for
/// registry tests.
public final class MLflowServer: @unchecked Sendable {
    // @unchecked: immutable after init; the process is stopped once, in deinit.
    public let process: BackgroundProcess
    public let port: Int
    public let directory: TemporaryDirectory
    public var url: String { "http://127.0.0.1:\(port)" }

    public static var isInstalled: Bool { ProcessRunner.has("mlflow") }

    /// Starts the server; `port` lets a test bring MLflow up at an address it used while MLflow was down.
    /// - Parameter artifactsDestination: where the proxy stores artifacts (default: a local
    ///   folder; `s3://bucket/path` with an `S3Emulator`'s `serverEnvironment`).
    /// - Parameter reuse: the folder of a stopped server, to start again on its database and artifacts.
    public init(port: Int? = nil, artifactsDestination: String? = nil, environment: [String: String] = [:], reuse: TemporaryDirectory? = nil) throws {
        self.port = try port ?? FreePort.next()
        directory = reuse ?? TemporaryDirectory(prefix: "sluice-mlflow")
        process = try BackgroundProcess("mlflow", [
            "server", "--host", "127.0.0.1", "--port", String(self.port), "--workers", "1",
            "--backend-store-uri", "sqlite:///\(directory.path)/mlflow.db",
            "--serve-artifacts", "--artifacts-destination", artifactsDestination ?? directory.path + "/artifacts",
        ], environment: Self.serverEnvironment.merging(environment) { _, given in given })
        // Ready when /health answers (first start migrates the database: seconds).
        let deadline = Date().addingTimeInterval(90)
        while Date() < deadline {
            if let r = try? ProcessRunner.run("curl", ["-sf", "--max-time", "2", "\(url)/health"]), r.status == 0 { return }
            Thread.sleep(forTimeInterval: 0.5)
        }
        process.stop()
        throw NSError(domain: "MLflowServer", code: 1, userInfo: [NSLocalizedDescriptionKey: "mlflow server did not become healthy on \(url)"])
    }

    /// MLflow 3's job execution (huey consumers for evaluation and trace jobs: seven Python
    /// processes importing MLflow per server) is off: Sluice uses the tracking, registry and
    /// artifact APIs only, which answer the same without it, and the consumers cost about as
    /// much CPU as the rest of the test suite's MLflow work together.
    static let serverEnvironment = ["MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"]

    /// GETs an MLflow REST path and decodes the JSON.
    public func get(_ path: String) throws -> [String: Any] {
        let r = try ProcessRunner.run("curl", ["-s", "\(url)/api/2.0/mlflow/\(path)"])
        return (try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]) ?? [:]
    }

    deinit { process.stop() }
}
