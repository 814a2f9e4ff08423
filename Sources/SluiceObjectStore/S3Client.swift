import Crypto
import SluiceCore
import SluiceHTTP
#if canImport(Glibc)
import Glibc
#endif

/// The S3 API calls the artifact store needs (HEAD, PUT, GET, and the multipart upload), signed
/// with AWS Signature Version 4 by libcurl. Every request carries its payload's SHA-256 in
/// `x-amz-content-sha256`, which the signature covers and S3 checks against the bytes it got,
/// so a body changed or cut on the way is refused rather than stored.
struct S3Client: Sendable {
    let settings: ArtifactStorageSettings
    /// S3 refuses more parts than this in one upload.
    static let maxParts: Int64 = 10_000
    /// The SHA-256 of no bytes: the payload hash of HEAD, GET and the other empty requests.
    static let emptyHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

    struct Failure: Error, Sendable, CustomStringConvertible {
        var description: String
        /// Whether trying again may help (a cut connection, a timeout, a 5xx).
        var transient: Bool
    }

    init(settings: ArtifactStorageSettings) {
        self.settings = settings
    }

    func client() -> HTTPClient { HTTPClient(tls: TLSOptions(caFile: settings.caBundle)) }

    /// `s3://bucket/key`, for messages.
    func shown(_ key: String) -> String { "s3://\(settings.bucket)/\(key)" }

    /// Path-style under a configured endpoint (MinIO and most S3-compatible stores); AWS's own
    /// virtual-hosted style otherwise, unless the bucket's dots would not match its certificate.
    func url(_ key: String, query: [(String, String)] = []) -> String {
        let path = key.split(separator: "/", omittingEmptySubsequences: false).map { URLEncoding.component(String($0)) }.joined(separator: "/")
        let base: String
        if let endpoint = settings.endpoint {
            base = "\(endpoint)/\(settings.bucket)/\(path)"
        } else if settings.bucket.contains(".") {
            base = "https://s3.\(settings.region).amazonaws.com/\(settings.bucket)/\(path)"
        } else {
            base = "https://\(settings.bucket).s3.\(settings.region).amazonaws.com/\(path)"
        }
        // SigV4 signs the query sorted by name with every value encoded; libcurl signs it as written.
        let sorted = query.sorted { $0.0 < $1.0 }.map { "\(URLEncoding.component($0.0))=\(URLEncoding.component($0.1))" }
        return sorted.isEmpty ? base : base + "?" + sorted.joined(separator: "&")
    }

    /// Sends one signed request; a failure to reach S3 or an error answer becomes a `Failure`
    /// that says which call on which key went wrong and, for the usual causes, what to check.
    func send(_ http: HTTPClient, _ method: String, _ key: String, query: [(String, String)] = [], payloadHash: String = emptyHash,
              body: [UInt8]? = nil, bodyFile: String? = nil, range: Range<Int64>? = nil, headers: [(name: String, value: String)] = [],
              accept: Set<Int> = [200], receive: ((UnsafeRawBufferPointer) -> Void)? = nil) throws(Failure) -> HTTPResponse {
        var request = HTTPRequest(method: method, url: url(key, query: query), headers: headers + [("x-amz-content-sha256", payloadHash)],
                                  body: body, bodyFile: bodyFile, timeout: Self.timeout(range.map { Int64($0.count) } ?? Int64(body?.count ?? 0)))
        request.bodyFileRange = range
        request.awsSigning = AWSSigning(region: settings.region, accessKeyID: settings.accessKeyID, secretAccessKey: settings.secretAccessKey)
        if let token = settings.sessionToken { request.headers.append(("x-amz-security-token", token)) }
        let response: HTTPResponse
        do {
            if let receive { response = try http.send(request, receive: receive) } else { response = try http.send(request) }
        } catch {
            throw Failure(description: "\(method) \(shown(key)): \(error.message)" + (settings.endpoint.map { " (endpoint \($0))" } ?? ""), transient: true)
        }
        guard accept.contains(response.status) else { throw failure(method, key, response) }
        // CompleteMultipartUpload may answer 200 with an error in its body.
        if method == "POST", S3XML.first("Code", in: response.body, under: "Error") != nil { throw failure(method, key, response) }
        return response
    }

    func failure(_ method: String, _ key: String, _ response: HTTPResponse) -> Failure {
        let code = S3XML.first("Code", in: response.body, under: "Error")
        let message = S3XML.first("Message", in: response.body, under: "Error")
        var text = "\(method) \(shown(key)): HTTP \(response.status)"
        if let code { text += " \(code)" }
        if let message { text += ": \(message)" }
        switch code ?? (response.status == 403 ? "AccessDenied" : response.status == 404 && method != "HEAD" ? "NoSuchKey" : "") {
        case "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken", "InvalidToken":
            text += " — check AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN) and that the key may read and write the bucket"
        case "NoSuchBucket":
            text += " — create the bucket, or point SLUICE_ARTIFACTS_URL at one that exists"
        case "AuthorizationHeaderMalformed", "PermanentRedirect":
            text += " — the bucket is in another region: set AWS_REGION to it"
        default: break
        }
        return Failure(description: text, transient: response.status >= 500 || response.status == 429)
    }

    /// A minute, plus a second for every 4 MiB (a 2 GiB part gets ~10 minutes).
    static func timeout(_ bytes: Int64) -> Double { 60 + Double(bytes) / Double(4 << 20) }

    /// Three attempts in all while failures are transient, about 0.5 s and then 2 s apart.
    static let backoff = Backoff(initial: 0.5, multiplier: 4, maximum: 2, attempts: 3)

    static func retrying<T>(_ body: () throws(Failure) -> T) throws(Failure) -> T {
        try SluiceCore.retrying(backoff, isTransient: { $0.transient }, sleep: { usleep(UInt32($0 * 1e6)) }, body)
    }

    /// The hex SHA-256 of `count` bytes of `fd` from `offset` (a part's payload hash).
    static func sha256(_ fd: Int32, offset: Int64, count: Int64) throws(Failure) -> String {
        var hasher = SHA256()
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        var done: Int64 = 0
        while done < count {
            let want = Int(min(Int64(buffer.count), count - done))
            let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, want, off_t(offset + done)) }
            if n < 0, errno == EINTR { continue }
            guard n > 0 else { throw Failure(description: "reading the file to upload failed at byte \(offset + done)", transient: false) }
            buffer.withUnsafeBytes { hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
            done += Int64(n)
        }
        return ContentHash.hex(hasher.finalize())
    }
}
