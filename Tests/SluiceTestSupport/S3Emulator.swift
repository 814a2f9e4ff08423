import Foundation

/// An S3 API on 127.0.0.1 (`moto_server`, PyPI `moto[server]`) with one bucket, to stand behind
/// an `mlflow server` as its artifact store: it supports what a local folder does not, such as
/// multipart uploads to presigned part URLs.
public final class S3Emulator: @unchecked Sendable {
    // @unchecked: immutable after init; the server is stopped once, in deinit.
    let server: PythonScriptServer
    public let bucket: String
    public var port: Int { server.port }
    public var url: String { "http://127.0.0.1:\(port)" }

    public static var isInstalled: Bool { ProcessRunner.has("moto_server") }

    /// What an S3 client (the MLflow server) needs to use this emulator.
    public var serverEnvironment: [String: String] {
        ["MLFLOW_S3_ENDPOINT_URL": url, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_DEFAULT_REGION": "us-east-1"]
    }

    /// Starts moto in-process on a free port and creates the bucket before saying it is ready.
    public init(bucket: String = "sluice-models") throws {
        self.bucket = bucket
        server = try PythonScriptServer(script: """
            import sys, threading, urllib.request
            from moto.server import ThreadedMotoServer
            server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
            server.start()
            port = server.get_host_and_port()[1]
            urllib.request.urlopen(urllib.request.Request(f"http://127.0.0.1:{port}/{sys.argv[1]}", method="PUT"))
            print("PORT", port, flush=True)
            threading.Event().wait()
            """, arguments: [bucket])
    }

    /// The bucket's objects: key, size and ETag (a multipart object's ETag ends in `-<parts>`).
    public func objects() throws -> [(key: String, size: Int, etag: String)] {
        let xml = try ProcessRunner.run("curl", ["-s", "\(url)/\(bucket)?list-type=2"]).stdout
        return xml.components(separatedBy: "<Contents>").dropFirst().map { entry in
            func field(_ name: String) -> String {
                guard let start = entry.range(of: "<\(name)>"), let end = entry.range(of: "</\(name)>", range: start.upperBound..<entry.endIndex) else { return "" }
                return String(entry[start.upperBound..<end.lowerBound])
            }
            return (field("Key"), Int(field("Size")) ?? -1, field("ETag").replacingOccurrences(of: "&#34;", with: "").replacingOccurrences(of: "\"", with: ""))
        }
    }
}
