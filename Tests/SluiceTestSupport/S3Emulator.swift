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

    /// The key that may use the bucket, when the emulator checks signatures (else nil).
    public let credentials: (accessKeyID: String, secretAccessKey: String)?
    let scratch = TemporaryDirectory(prefix: "sluice-s3")

    /// Starts moto in-process on a free port and creates the bucket before saying it is ready.
    /// `checkingSignatures`: moto then verifies every request's AWS Signature V4 against an IAM
    /// user's key made at start (`credentials`), as S3 does, and refuses unsigned ones.
    public init(bucket: String = "sluice-models", checkingSignatures: Bool = false) throws {
        self.bucket = bucket
        let keyFile = scratch.path + "/key"
        server = try PythonScriptServer(path: RepositoryLayout.root() + "/Tests/SluiceTestSupport/s3_emulator.py",
                                        arguments: [bucket, checkingSignatures ? "1" : "0", keyFile])
        if checkingSignatures {
            let parts = try String(contentsOfFile: keyFile, encoding: .utf8).split(separator: " ").map(String.init)
            credentials = (parts[0], parts[1])
        } else {
            credentials = nil
        }
    }

    /// curl's arguments that sign a request with the emulator's key, for a payload of that
    /// SHA-256 (none when it checks no signatures).
    func signing(payload hash: String = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855") -> [String] {
        guard let credentials else { return [] }
        return ["--aws-sigv4", "aws:amz:us-east-1:s3", "--user", "\(credentials.accessKeyID):\(credentials.secretAccessKey)",
                "-H", "x-amz-content-sha256: \(hash)"]
    }

    /// Replaces an object's bytes (signed, as a third party with the key would).
    public func put(_ key: String, bytes: [UInt8]) throws {
        let file = scratch.path + "/put"
        try Data(bytes).write(to: URL(fileURLWithPath: file))
        let hash = String(try ProcessRunner.run("sha256sum", [file]).stdout.prefix(64))
        let status = try ProcessRunner.run("curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}"] + signing(payload: hash) + ["-T", file, "\(url)/\(bucket)/\(key)"]).stdout
        guard status == "200" else { throw NSError(domain: "S3Emulator", code: 1, userInfo: [NSLocalizedDescriptionKey: "PUT \(key): HTTP \(status)"]) }
    }

    /// The multipart uploads begun and neither completed nor aborted.
    public func unfinishedUploads() throws -> Int {
        try ProcessRunner.run("curl", ["-s"] + signing() + ["\(url)/\(bucket)?uploads="]).stdout.components(separatedBy: "<Upload>").count - 1
    }

    /// The bucket's objects: key, size and ETag (a multipart object's ETag ends in `-<parts>`).
    public func objects() throws -> [(key: String, size: Int, etag: String)] {
        let xml = try ProcessRunner.run("curl", ["-s"] + signing() + ["\(url)/\(bucket)?list-type=2"]).stdout
        return xml.components(separatedBy: "<Contents>").dropFirst().map { entry in
            func field(_ name: String) -> String {
                guard let start = entry.range(of: "<\(name)>"), let end = entry.range(of: "</\(name)>", range: start.upperBound..<entry.endIndex) else { return "" }
                return String(entry[start.upperBound..<end.lowerBound])
            }
            return (field("Key"), Int(field("Size")) ?? -1, field("ETag").replacingOccurrences(of: "&#34;", with: "").replacingOccurrences(of: "\"", with: ""))
        }
    }
}
