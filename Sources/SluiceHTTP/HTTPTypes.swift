/// An HTTP request as Sluice's clients (Kubernetes, MLflow, forges, Prometheus) send it.
public struct HTTPRequest: Sendable {
    public var method: String
    public var url: String
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]?
    /// A file streamed as the body (with its length), for uploads too large to hold in memory.
    public var bodyFile: String?
    /// Only these bytes of `bodyFile` are sent (one part of a multipart upload).
    public var bodyFileRange: Range<Int64>?
    /// Signs the request with AWS Signature Version 4 (libcurl's `CURLOPT_AWS_SIGV4`).
    public var awsSigning: AWSSigning?
    /// Whole-transfer timeout in seconds.
    public var timeout: Double

    public init(method: String = "GET", url: String, headers: [(name: String, value: String)] = [],
                body: [UInt8]? = nil, bodyFile: String? = nil, timeout: Double = 30) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.bodyFile = bodyFile
        self.timeout = timeout
    }
}

public struct HTTPResponse: Sendable {
    public var status: Int
    /// Header names are lower-cased; values as sent.
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    public func header(_ name: String) -> String? {
        let lower = name.lowercased()
        return headers.last { $0.name == lower }?.value
    }

    public var text: String { String(decoding: body, as: UTF8.self) }
}

/// What AWS Signature Version 4 needs: libcurl computes the signature, over the method, the
/// path, the query, the `host` and `x-amz-*` headers; the caller sends `x-amz-content-sha256`
/// (the payload's SHA-256, which the signature then covers and S3 checks against the body).
public struct AWSSigning: Sendable, Hashable {
    public var region: String
    public var service: String
    public var accessKeyID: String
    public var secretAccessKey: String

    public init(region: String, service: String = "s3", accessKeyID: String, secretAccessKey: String) {
        self.region = region
        self.service = service
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
    }

    /// `CURLOPT_AWS_SIGV4`'s provider string.
    var provider: String { "aws:amz:\(region):\(service)" }
}

/// TLS settings. Verification is on unless `insecureSkipVerify` is set explicitly
/// (as a kubeconfig's `insecure-skip-tls-verify: true` does).
public struct TLSOptions: Sendable, Hashable {
    public var caFile: String?
    /// PEM bytes of the certificate authority (kubeconfig `certificate-authority-data`).
    public var caPEM: [UInt8]?
    public var clientCertificatePEM: [UInt8]?
    public var clientKeyPEM: [UInt8]?
    public var insecureSkipVerify = false

    public init(caFile: String? = nil, caPEM: [UInt8]? = nil, clientCertificatePEM: [UInt8]? = nil,
                clientKeyPEM: [UInt8]? = nil, insecureSkipVerify: Bool = false) {
        self.caFile = caFile
        self.caPEM = caPEM
        self.clientCertificatePEM = clientCertificatePEM
        self.clientKeyPEM = clientKeyPEM
        self.insecureSkipVerify = insecureSkipVerify
    }
}

/// A transfer that did not produce an HTTP response: connection refused, DNS,
/// TLS, timeout. Carries the URL and libcurl's own explanation.
public struct HTTPError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable { case connect, timeout, tls, other }
    public var kind: Kind
    public var url: String
    public var message: String
    public var curlCode: Int

    public var description: String { "\(url): \(message)" }
}

/// Percent-encoding for URL path segments and query values: everything but unreserved
/// characters (RFC 3986), so `/`, `?`, `&`, `=` and `{` inside a value stay data.
public enum URLEncoding {
    public static func component(_ s: String) -> String {
        var out = ""
        for byte in s.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.unicodeScalars.append(UnicodeScalar(byte))
            default:
                out += "%" + String(byte, radix: 16, uppercase: true).leftPadded2
            }
        }
        return out
    }
}

extension String {
    fileprivate var leftPadded2: String { count == 1 ? "0" + self : self }
}
