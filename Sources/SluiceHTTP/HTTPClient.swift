import CCurl
import SluiceCore
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A blocking HTTP client over one libcurl easy handle. Reusing the handle keeps
/// connections (and TLS sessions) alive between requests to the same server.
/// Requests through one client are serialised; use one client per concurrent caller.
public final class HTTPClient: Sendable {
    private let handle: Mutex<EasyHandle>
    public let tls: TLSOptions

    public init(tls: TLSOptions = TLSOptions()) {
        _ = HTTPClient.globalInit
        self.tls = tls
        handle = Mutex(EasyHandle())
    }

    /// curl_global_init must run once before any handle is made.
    private static let globalInit: Void = { curl_global_init(Int(CURL_GLOBAL_DEFAULT)) }()

    public func send(_ request: HTTPRequest) throws(HTTPError) -> HTTPResponse {
        try handle.withLock { easy throws(HTTPError) in try easy.perform(request, tls: tls, receive: nil) }
    }

    /// Sends `request` and hands a 2xx response's body to `receive` as it arrives instead of
    /// collecting it (downloads of any size); other responses' bodies are collected as usual,
    /// for their error message. `stopped` ends a stream the server keeps open (a watch): it is
    /// asked after each chunk and about once a second while none comes, and when it says yes
    /// the transfer ends and the response so far is returned.
    public func send(_ request: HTTPRequest, receive: (UnsafeRawBufferPointer) -> Void,
                     stopped: (() -> Bool)? = nil) throws(HTTPError) -> HTTPResponse {
        try withoutActuallyEscaping(receive) { (escaping: @escaping (UnsafeRawBufferPointer) -> Void) throws(HTTPError) -> HTTPResponse in
            try handle.withLock { easy throws(HTTPError) in try easy.perform(request, tls: tls, receive: escaping, stopped: stopped) }
        }
    }
}

/// Owns a `CURL *` (cleaned up in deinit). Only used under `HTTPClient`'s lock.
final class EasyHandle: @unchecked Sendable {
    // @unchecked: the handle is touched only inside Mutex.withLock, one thread at a time.
    private let curl: UnsafeMutableRawPointer

    init() { curl = curl_easy_init() }
    deinit { curl_easy_cleanup(curl) }

    /// Collects the response while libcurl runs; passed to callbacks as userdata.
    final class Sink {
        var body: [UInt8] = []
        var headers: [(name: String, value: String)] = []
        /// Takes a successful response's body instead of `body`.
        var receive: ((UnsafeRawBufferPointer) -> Void)?
        /// Says when the caller wants a stream to end; `stopping` records that it did.
        var stopped: (() -> Bool)?
        var stopping = false
        /// The status line's code of the response being received.
        var status = 0
        /// The file an upload streams from, where the next byte is read and how many are left.
        var upload: Int32 = -1
        var uploadOffset: Int64 = 0
        var uploadRemaining: Int64 = 0
    }

    func perform(_ request: HTTPRequest, tls: TLSOptions, receive: ((UnsafeRawBufferPointer) -> Void)?,
                 stopped: (() -> Bool)? = nil) throws(HTTPError) -> HTTPResponse {
        curl_easy_reset(curl)
        let sink = Sink()
        sink.receive = receive
        sink.stopped = stopped
        if let path = request.bodyFile {
            sink.upload = open(path, O_RDONLY | O_CLOEXEC)
            guard sink.upload >= 0 else {
                throw HTTPError(kind: .other, url: request.url, message: "cannot read \(path): \(String(cString: strerror(errno)))", curlCode: 0)
            }
        }
        defer { if sink.upload >= 0 { close(sink.upload) } }
        var errorBuffer = [CChar](repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        var headerList: UnsafeMutablePointer<curl_slist>? = nil
        defer { curl_slist_free_all(headerList) }

        let code: CURLcode = withExtendedLifetime(sink) {
            errorBuffer.withUnsafeMutableBufferPointer { errbuf -> CURLcode in
                sluice_curl_setopt_string(curl, CURLOPT_URL, request.url)
                sluice_curl_setopt_pointer(curl, CURLOPT_ERRORBUFFER, errbuf.baseAddress)
                sluice_curl_setopt_long(curl, CURLOPT_NOSIGNAL, 1)
                sluice_curl_setopt_long(curl, CURLOPT_TIMEOUT_MS, Int(request.timeout * 1000))
                sluice_curl_setopt_long(curl, CURLOPT_CONNECTTIMEOUT_MS, Int(min(request.timeout, 10) * 1000))
                sluice_curl_setopt_long(curl, CURLOPT_FOLLOWLOCATION, 0)
                sluice_curl_setopt_string(curl, CURLOPT_ACCEPT_ENCODING, "")  // gzip/deflate/br as available
                switch request.method {
                case "GET": sluice_curl_setopt_long(curl, CURLOPT_HTTPGET, 1)
                case "HEAD": sluice_curl_setopt_long(curl, CURLOPT_NOBODY, 1)
                default: sluice_curl_setopt_string(curl, CURLOPT_CUSTOMREQUEST, request.method)
                }
                if sink.upload >= 0 {
                    var info = stat()
                    fstat(sink.upload, &info)
                    let range = request.bodyFileRange ?? 0..<Int64(info.st_size)
                    sink.uploadOffset = range.lowerBound
                    sink.uploadRemaining = range.upperBound - range.lowerBound
                    sluice_curl_setopt_long(curl, CURLOPT_UPLOAD, 1)
                    sluice_curl_setopt_offset(curl, CURLOPT_INFILESIZE_LARGE, curl_off_t(range.upperBound - range.lowerBound))
                    sluice_curl_setopt_write_cb(curl, CURLOPT_READFUNCTION) { ptr, size, count, data in
                        let sink = Unmanaged<Sink>.fromOpaque(data!).takeUnretainedValue()
                        let wanted = Int(min(Int64(size * count), sink.uploadRemaining))
                        if wanted == 0 { return 0 }
                        while true {
                            let n = pread(sink.upload, ptr, wanted, off_t(sink.uploadOffset))
                            if n < 0, errno == EINTR { continue }
                            // A file that shrank under the upload ends it short: abort rather than send less than announced.
                            if n <= 0 { return Int(CURL_READFUNC_ABORT) }
                            sink.uploadOffset += Int64(n)
                            sink.uploadRemaining -= Int64(n)
                            return n
                        }
                    }
                    sluice_curl_setopt_pointer(curl, CURLOPT_READDATA, Unmanaged.passUnretained(sink).toOpaque())
                } else if let body = request.body {
                    // COPYPOSTFIELDS: libcurl keeps its own copy, so the Swift buffer may go away.
                    sluice_curl_setopt_long(curl, CURLOPT_POSTFIELDSIZE, body.count)
                    if body.isEmpty {
                        sluice_curl_setopt_string(curl, CURLOPT_COPYPOSTFIELDS, "")
                    } else {
                        body.withUnsafeBufferPointer { buf in
                            _ = sluice_curl_setopt_pointer(curl, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: buf.baseAddress!))
                        }
                    }
                }
                var headers = request.headers
                // libcurl 7.88 signs a header-removing `Name:` line as if it were sent, so a signed
                // request keeps libcurl's own Expect and Content-Type (which it does not sign).
                let removals = request.awsSigning == nil
                if removals, request.body != nil || request.bodyFile != nil, !headers.contains(where: { $0.name.lowercased() == "expect" }) {
                    headers.append(("Expect", ""))  // no 100-continue round trip
                }
                if removals, request.body != nil, !headers.contains(where: { $0.name.lowercased() == "content-type" }) {
                    // libcurl would label a body form data, which servers then parse as fields.
                    headers.append(("Content-Type", ""))
                }
                for (name, value) in headers {
                    headerList = curl_slist_append(headerList, value.isEmpty ? "\(name):" : "\(name): \(value)")
                }
                sluice_curl_setopt_slist(curl, CURLOPT_HTTPHEADER, headerList)
                if let signing = request.awsSigning {
                    sluice_curl_setopt_string(curl, CURLOPT_AWS_SIGV4, signing.provider)
                    sluice_curl_setopt_string(curl, CURLOPT_USERNAME, signing.accessKeyID)
                    sluice_curl_setopt_string(curl, CURLOPT_PASSWORD, signing.secretAccessKey)
                }
                applyTLS(tls)

                let userdata = Unmanaged.passUnretained(sink).toOpaque()
                sluice_curl_setopt_write_cb(curl, CURLOPT_WRITEFUNCTION) { ptr, size, count, data in
                    let sink = Unmanaged<Sink>.fromOpaque(data!).takeUnretainedValue()
                    let n = size * count
                    guard let ptr else { return n }
                    if let receive = sink.receive, (200..<300).contains(sink.status) {
                        receive(UnsafeRawBufferPointer(start: ptr, count: n))
                        if sink.stopped?() == true {
                            sink.stopping = true
                            return 0  // anything but n ends the transfer
                        }
                    } else {
                        ptr.withMemoryRebound(to: UInt8.self, capacity: n) { sink.body.append(contentsOf: UnsafeBufferPointer(start: $0, count: n)) }
                    }
                    return n
                }
                sluice_curl_setopt_pointer(curl, CURLOPT_WRITEDATA, userdata)
                sluice_curl_setopt_write_cb(curl, CURLOPT_HEADERFUNCTION) { ptr, size, count, data in
                    let sink = Unmanaged<Sink>.fromOpaque(data!).takeUnretainedValue()
                    let n = size * count
                    guard let ptr else { return n }
                    let line = ptr.withMemoryRebound(to: UInt8.self, capacity: n) { String(decoding: UnsafeBufferPointer(start: $0, count: n), as: UTF8.self) }
                    if line.hasPrefix("HTTP/") {
                        sink.headers = []  // a new response (after a redirect or 100) starts
                        let fields = line.split(separator: " ")
                        sink.status = fields.count > 1 ? Int(fields[1]) ?? 0 : 0
                    } else if let colon = line.firstIndex(of: ":") {
                        let name = line[..<colon].lowercased()
                        let value = String(line[line.index(after: colon)...]).trimmingWhitespace()
                        sink.headers.append((name, value))
                    }
                    return n
                }
                sluice_curl_setopt_pointer(curl, CURLOPT_HEADERDATA, userdata)
                if sink.stopped != nil {
                    // libcurl asks this about once a second while a stream is idle, and after each chunk.
                    sluice_curl_setopt_xferinfo_cb(curl) { data, _, _, _, _ in
                        let sink = Unmanaged<Sink>.fromOpaque(data!).takeUnretainedValue()
                        guard sink.stopped?() == true else { return 0 }
                        sink.stopping = true
                        return 1
                    }
                    sluice_curl_setopt_pointer(curl, CURLOPT_XFERINFODATA, userdata)
                    sluice_curl_setopt_long(curl, CURLOPT_NOPROGRESS, 0)
                }
                return curl_easy_perform(curl)
            }
        }
        // Ended by the caller (a write that took nothing, or the progress callback): not an error.
        let endedByCaller = sink.stopping && (code == CURLE_WRITE_ERROR || code == CURLE_ABORTED_BY_CALLBACK)
        guard code == CURLE_OK || endedByCaller else {
            let detail = CStringBuffer.string(errorBuffer)
            let message = detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail
            throw HTTPError(kind: Self.kind(of: code), url: request.url, message: message, curlCode: Int(code.rawValue))
        }
        var status = 0
        sluice_curl_getinfo_long(curl, CURLINFO_RESPONSE_CODE, &status)
        return HTTPResponse(status: status, headers: sink.headers, body: sink.body)
    }

    private func applyTLS(_ tls: TLSOptions) {
        if tls.insecureSkipVerify {
            sluice_curl_setopt_long(curl, CURLOPT_SSL_VERIFYPEER, 0)
            sluice_curl_setopt_long(curl, CURLOPT_SSL_VERIFYHOST, 0)
        } else {
            sluice_curl_setopt_long(curl, CURLOPT_SSL_VERIFYPEER, 1)
            sluice_curl_setopt_long(curl, CURLOPT_SSL_VERIFYHOST, 2)
        }
        if let file = tls.caFile { sluice_curl_setopt_string(curl, CURLOPT_CAINFO, file) }
        // Blobs are copied by libcurl (CURL_BLOB_COPY), so the Swift arrays need not outlive the call.
        func blob(_ option: CURLoption, _ bytes: [UInt8]) {
            var copy = bytes
            copy.withUnsafeMutableBytes { raw in
                var b = curl_blob(data: raw.baseAddress, len: raw.count, flags: UInt32(CURL_BLOB_COPY))
                _ = sluice_curl_setopt_pointer(curl, option, &b)
            }
        }
        if let ca = tls.caPEM { blob(CURLOPT_CAINFO_BLOB, ca) }
        if let cert = tls.clientCertificatePEM { blob(CURLOPT_SSLCERT_BLOB, cert) }
        if let key = tls.clientKeyPEM { blob(CURLOPT_SSLKEY_BLOB, key) }
    }

    private static func kind(of code: CURLcode) -> HTTPError.Kind {
        switch code {
        case CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY: return .connect
        case CURLE_OPERATION_TIMEDOUT: return .timeout
        case CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CACERT_BADFILE,
             CURLE_SSL_CERTPROBLEM, CURLE_SSL_CIPHER, CURLE_SSL_ISSUER_ERROR:
            return .tls
        default: return .other
        }
    }
}
