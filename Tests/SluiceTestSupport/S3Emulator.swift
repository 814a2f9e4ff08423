import Foundation

/// An S3 API on 127.0.0.1 (`moto_server`, PyPI `moto[server]`) with one bucket, to stand behind
/// an `mlflow server` as its artifact store: it supports what a local folder does not, such as
/// multipart uploads to presigned part URLs.
public final class S3Emulator: @unchecked Sendable {
    // @unchecked: immutable after init; the process is stopped once, in deinit.
    public let process: BackgroundProcess
    public let port: Int
    public let bucket: String
    public var url: String { "http://127.0.0.1:\(port)" }

    public static var isInstalled: Bool { ProcessRunner.has("moto_server") }

    /// What an S3 client (the MLflow server) needs to use this emulator.
    public var serverEnvironment: [String: String] {
        ["MLFLOW_S3_ENDPOINT_URL": url, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_DEFAULT_REGION": "us-east-1"]
    }

    public init(bucket: String = "sluice-models") throws {
        port = try FreePort.next()
        self.bucket = bucket
        process = try BackgroundProcess("moto_server", ["-H", "127.0.0.1", "-p", String(port)])
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            if let r = try? ProcessRunner.run("curl", ["-sf", "--max-time", "2", "-X", "PUT", "\(url)/\(bucket)"]), r.status == 0 { return }
            Thread.sleep(forTimeInterval: 0.3)
        }
        process.stop()
        throw NSError(domain: "S3Emulator", code: 1, userInfo: [NSLocalizedDescriptionKey: "moto_server did not answer on \(url)"])
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

    deinit { process.stop() }
}
