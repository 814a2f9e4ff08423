/// Where stage outputs are kept beyond the state folder: an S3-compatible bucket (AWS S3,
/// MinIO, Ceph, GCS's interoperability API). The state folder's `cas/` is then a cache of the
/// bucket: every output is in the bucket before its stage counts as succeeded, and a blob the
/// folder lacks (a new replica, a lost volume) is fetched and checked against its digest.
///
/// Read from the environment, the way every command finds it (`MLFLOW_S3_ENDPOINT_URL` and the
/// AWS variables are how MLflow and DVC are pointed at a bucket too):
/// - `SLUICE_ARTIFACTS_URL=s3://bucket/prefix` (unset: the state folder only)
/// - `SLUICE_S3_ENDPOINT_URL`, else `AWS_ENDPOINT_URL_S3`, else `AWS_ENDPOINT_URL`
///   (unset: AWS itself, `https://<bucket>.s3.<region>.amazonaws.com`)
/// - `AWS_REGION`, else `AWS_DEFAULT_REGION` (default `us-east-1`)
/// - `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` (required) and `AWS_SESSION_TOKEN` (optional)
/// - `AWS_CA_BUNDLE`: a PEM file of the authorities to trust (a private MinIO); TLS is verified
/// - `SLUICE_S3_PART_SIZE_MB` (default 16, at least 5): files larger than one part go up in parts
public struct ArtifactStorageSettings: Sendable, Hashable {
    public var bucket: String
    /// Keys start with it: empty, or ending in `/`.
    public var prefix: String
    /// The S3 API's base URL, nil for AWS.
    public var endpoint: String?
    public var region: String
    public var accessKeyID: String
    public var secretAccessKey: String
    public var sessionToken: String?
    public var caBundle: String?
    public var partSize: Int64 = 16 << 20

    public init(bucket: String, prefix: String = "", endpoint: String? = nil, region: String = "us-east-1",
                accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil) {
        self.bucket = bucket
        self.prefix = prefix
        self.endpoint = endpoint
        self.region = region
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
    }

    /// Where this points, without credentials (`s3://bucket/prefix at endpoint`), for messages.
    public var description: String {
        "s3://\(bucket)/\(prefix)" + (endpoint.map { " at \($0)" } ?? " (AWS \(region))")
    }

    /// The settings the environment names; nil when `SLUICE_ARTIFACTS_URL` is unset or empty.
    /// Throws a message naming the variable and what to set when they are incomplete or malformed.
    public static func from(environment: [String: String]) throws(LoadError) -> ArtifactStorageSettings? {
        guard let url = nonEmpty(environment["SLUICE_ARTIFACTS_URL"]) else { return nil }
        let bucket = ArtifactBucket(url: url, what: "SLUICE_ARTIFACTS_URL",
                                    endpoint: nonEmpty(environment["SLUICE_S3_ENDPOINT_URL"]) ?? nonEmpty(environment["AWS_ENDPOINT_URL_S3"])
                                        ?? nonEmpty(environment["AWS_ENDPOINT_URL"]),
                                    region: nonEmpty(environment["AWS_REGION"]) ?? nonEmpty(environment["AWS_DEFAULT_REGION"]))
        return try resolve(bucket, environment: environment)
    }

    /// The settings of a bucket a configuration names, with the key its variables hold.
    public static func resolve(_ bucket: ArtifactBucket, environment: [String: String]) throws(LoadError) -> ArtifactStorageSettings {
        let (name, prefix) = try bucket.checked()
        guard let key = nonEmpty(environment[bucket.accessKeyIDEnv]), let secret = nonEmpty(environment[bucket.secretAccessKeyEnv]) else {
            throw LoadError(message: "\(bucket.what) is set but \(bucket.accessKeyIDEnv) or \(bucket.secretAccessKeyEnv) is not",
                            hint: "export both with a key that may read and write \(bucket.url)")
        }
        var settings = ArtifactStorageSettings(bucket: name, prefix: prefix, endpoint: bucket.endpoint.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 },
                                               region: bucket.region ?? "us-east-1", accessKeyID: key, secretAccessKey: secret,
                                               sessionToken: nonEmpty(environment[bucket.sessionTokenEnv]))
        settings.caBundle = nonEmpty(environment["AWS_CA_BUNDLE"])
        if let text = nonEmpty(environment["SLUICE_S3_PART_SIZE_MB"]) {
            // S3 refuses parts under 5 MiB (but the last) and uploads of more than 10,000 parts.
            guard let megabytes = Int64(text), (5...5120).contains(megabytes) else {
                throw LoadError(message: "SLUICE_S3_PART_SIZE_MB is '\(text)'; it must be a whole number of MiB from 5 to 5120",
                                hint: "unset it for 16 MiB parts")
            }
            settings.partSize = megabytes << 20
        }
        return settings
    }

    static func nonEmpty(_ value: String?) -> String? {
        guard let value = value?.trimmingWhitespace(), !value.isEmpty else { return nil }
        return value
    }

    /// S3's bucket naming rules (the subset every S3-compatible store accepts).
    static func isBucketName(_ name: String) -> Bool {
        guard (3...63).contains(name.count), let first = name.first, let last = name.last,
              first.isASCII && (first.isLowercase || first.isNumber), last.isASCII && (last.isLowercase || last.isNumber) else { return false }
        return name.allSatisfy { $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "." || $0 == "-") } && !name.contains("..")
    }
}

/// A bucket as a configuration names it: its `s3://bucket/prefix` URL, where its API is, and
/// which environment variables hold its key (the key itself is never in a file).
public struct ArtifactBucket: Hashable, Sendable {
    public var url: String
    /// What named it, for messages (`SLUICE_ARTIFACTS_URL`, `artifacts.s3 at file:line:col`).
    public var what: String
    public var endpoint: String?
    public var region: String?
    public var accessKeyIDEnv = "AWS_ACCESS_KEY_ID"
    public var secretAccessKeyEnv = "AWS_SECRET_ACCESS_KEY"
    public var sessionTokenEnv = "AWS_SESSION_TOKEN"

    public init(url: String, what: String, endpoint: String? = nil, region: String? = nil) {
        self.url = url
        self.what = what
        self.endpoint = endpoint
        self.region = region
    }

    /// The bucket's name and its key prefix (empty or ending in `/`), once the URL, the prefix
    /// and the endpoint are ones S3 accepts; otherwise what is wrong and what to set.
    public func checked() throws(LoadError) -> (name: String, prefix: String) {
        guard url.hasPrefix("s3://") else {
            throw LoadError(message: "\(what) is '\(url)', which is not an s3:// URL",
                            hint: "set it to s3://<bucket>/<prefix>, or unset it to keep artifacts in the state folder only")
        }
        let rest = url.dropFirst(5)
        let name = String(rest.prefix { $0 != "/" })
        var prefix = String(rest.dropFirst(name.count).drop { $0 == "/" })
        while prefix.hasSuffix("/") { prefix.removeLast() }
        if !prefix.isEmpty { prefix += "/" }
        guard ArtifactStorageSettings.isBucketName(name) else {
            throw LoadError(message: "\(what) names the bucket '\(name)', which is not a valid S3 bucket name",
                            hint: "bucket names are 3 to 63 lower-case letters, digits, '.' and '-', starting and ending with a letter or digit")
        }
        guard prefix.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "/._-".contains($0)) }), !prefix.contains("//"),
              !prefix.split(separator: "/").contains(where: { $0 == "." || $0 == ".." }) else {
            throw LoadError(message: "\(what): the prefix '\(prefix)' may hold only letters, digits, '/', '.', '_' and '-' (no empty, '.' or '..' segments)",
                            hint: "choose a prefix such as sluice/production")
        }
        if let endpoint, !(endpoint.hasPrefix("https://") || endpoint.hasPrefix("http://")) {
            throw LoadError(message: "the S3 endpoint '\(endpoint)' is not an http(s) URL", hint: "set it to, for example, https://minio.example.com:9000")
        }
        return (name, prefix)
    }
}
