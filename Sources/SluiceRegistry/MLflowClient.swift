import Foundation
public import SluiceHTTP

/// MLflow's REST API (tracking, registry, and the `mlflow-artifacts` proxy) over libcurl.
/// Credentials go in a header and never into a message: errors name the server without
/// its user-info.
public struct MLflowClient: Sendable {
    /// The tracking URI without a trailing slash.
    public let baseURL: String
    /// `baseURL` as messages show it (no `user:password@`).
    public let displayURL: String
    let http: HTTPClient
    /// MLflow's own auth: `MLFLOW_TRACKING_TOKEN` (bearer) or username/password (basic).
    let authorization: String?

    public init(trackingURI: String, environment: [String: String], http: HTTPClient = HTTPClient()) {
        var base = trackingURI
        while base.hasSuffix("/") { base.removeLast() }
        baseURL = base
        displayURL = Self.withoutUserInfo(base)
        self.http = http
        if let token = environment["MLFLOW_TRACKING_TOKEN"], !token.isEmpty {
            authorization = "Bearer " + token
        } else if let user = environment["MLFLOW_TRACKING_USERNAME"], let password = environment["MLFLOW_TRACKING_PASSWORD"] {
            authorization = "Basic " + Data("\(user):\(password)".utf8).base64EncodedString()
        } else {
            authorization = nil
        }
    }

    /// `https://user:secret@host/x` → `https://host/x`.
    static func withoutUserInfo(_ url: String) -> String {
        guard let scheme = url.range(of: "://") else { return url }
        let rest = url[scheme.upperBound...]
        let authorityEnd = rest.firstIndex(of: "/") ?? rest.endIndex
        guard let at = rest[..<authorityEnd].lastIndex(of: "@") else { return url }
        return String(url[..<scheme.upperBound]) + String(rest[rest.index(after: at)...])
    }

    /// An answer MLflow gave with an error status.
    struct Failure: Error {
        var status: Int
        var code: String
        var message: String
    }

    var headers: [(name: String, value: String)] {
        var h: [(name: String, value: String)] = [("Accept", "application/json")]
        if let authorization { h.append(("Authorization", authorization)) }
        return h
    }

    /// Calls `/api/2.0/mlflow/<path>` and decodes the JSON answer.
    func call(_ method: String, _ path: String, query: [(String, String)] = [], body: [String: Any]? = nil,
              timeout: Double = 30) throws(RegistryError) -> [String: Any] {
        try request(method, "/api/2.0/mlflow/" + path, query: query, body: body, timeout: timeout)
    }

    func request(_ method: String, _ path: String, query: [(String, String)] = [], body: [String: Any]? = nil,
                 timeout: Double = 30) throws(RegistryError) -> [String: Any] {
        var bytes: [UInt8]?
        var headers = headers
        if let body {
            headers.append(("Content-Type", "application/json"))
            do { bytes = [UInt8](try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])) } catch {
                throw RegistryError("MLflow \(method) \(path): the request could not be encoded: \(error)")
            }
        }
        let response = try send(HTTPRequest(method: method, url: url(path, query: query), headers: headers, body: bytes, timeout: timeout),
                                what: "\(method) \(path)")
        return try Self.decode(response, what: "\(method) \(path)")
    }

    func url(_ path: String, query: [(String, String)] = []) -> String {
        baseURL + path + (query.isEmpty ? "" : "?" + query.map { "\($0.0)=\(URLEncoding.component($0.1))" }.joined(separator: "&"))
    }

    /// Sends a request; a transport failure names the server (never its credentials).
    func send(_ request: HTTPRequest, what: String, receive: ((UnsafeRawBufferPointer) -> Void)? = nil) throws(RegistryError) -> HTTPResponse {
        do {
            if let receive { return try http.send(request, receive: receive) }
            return try http.send(request)
        } catch {
            let reason = error.message.replacingOccurrences(of: baseURL, with: displayURL)
            if error.kind == .connect { throw RegistryError("MLflow at \(displayURL) is unreachable: \(reason)") }
            throw RegistryError("MLflow \(what) at \(displayURL) failed: \(reason)")
        }
    }

    /// A 2xx answer's JSON, or the error MLflow gave (its `error_code` and `message`).
    static func decode(_ response: HTTPResponse, what: String) throws(RegistryError) -> [String: Any] {
        let json: [String: Any]?
        do {
            json = response.body.isEmpty ? [:] : try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any]
        } catch {
            json = nil
        }
        guard (200..<300).contains(response.status) else {
            let code = json?["error_code"] as? String ?? "HTTP \(response.status)"
            let message = json?["message"] as? String ?? String(response.text.prefix(300))
            throw RegistryError("MLflow \(what) failed: \(response.status) \(code): \(message)", code: code)
        }
        guard let json else { throw RegistryError("MLflow \(what) answered \(response.status) with something that is not a JSON object") }
        return json
    }
}
