import Foundation
import SluiceHTTP
import Synchronization

/// A Kubernetes API client over the libcurl adapter: discovery (cached, refreshed on a
/// miss), server-side apply (`fieldManager=sluice`, `fieldValidation=Strict`, optional
/// `dryRun=All`), get, delete. Connection errors, 429 (honouring
/// Retry-After) and 5xx are retried with backoff; other answers become `KubeError`s that
/// carry the server's Status reason, message and causes.
public final class KubeClient: Sendable {
    public let config: KubeConfig
    public let fieldManager: String
    /// Idle connections (a libcurl handle each, kept alive): a request takes one or opens one,
    /// so callers on several threads send at once; sequential callers reuse one connection.
    private let idle = Mutex<[HTTPClient]>([])
    private let resources = Mutex<[String: Resource]>([:])

    public struct Resource: Sendable, Hashable {
        public var groupVersion: String
        public var name: String
        public var kind: String
        public var namespaced: Bool
        var prefix: String { groupVersion.contains("/") ? "/apis/\(groupVersion)" : "/api/\(groupVersion)" }
    }

    public init(config: KubeConfig, fieldManager: String = "sluice") {
        self.config = config
        self.fieldManager = fieldManager
    }

    private func exchange(_ request: HTTPRequest) throws(HTTPError) -> HTTPResponse {
        let connection = idle.withLock { $0.popLast() } ?? HTTPClient(tls: config.tls)
        defer { idle.withLock { $0.append(connection) } }
        return try connection.send(request)
    }

    // MARK: transport

    /// The server's URL of `path` with `query` (each value percent-encoded).
    func url(_ path: String, query: [(String, String)] = []) -> String {
        var url = config.server
        while url.hasSuffix("/") { url.removeLast() }
        url += path
        if !query.isEmpty { url += "?" + query.map { "\($0.0)=\(URLEncoding.component($0.1))" }.joined(separator: "&") }
        return url
    }

    /// What every request carries: what it accepts, who sends it, the bearer token.
    func headers(accept: String) -> [(name: String, value: String)] {
        var headers: [(name: String, value: String)] = [("Accept", accept), ("User-Agent", "sluice")]
        if let token = config.token { headers.append(("Authorization", "Bearer \(token)")) }
        return headers
    }

    func send(_ method: String, _ path: String, query: [(String, String)] = [], body: [UInt8]? = nil,
              contentType: String? = nil, accept: String = "application/json") throws(KubeError) -> (status: Int, json: Any?) {
        let url = url(path, query: query)
        var headers = headers(accept: accept)
        if let contentType { headers.append(("Content-Type", contentType)) }
        var attempt = 0
        while true {
            attempt += 1
            let response: HTTPResponse
            do {
                response = try exchange(HTTPRequest(method: method, url: url, headers: headers, body: body, timeout: 60))
            } catch {
                if error.kind == .tls {
                    throw KubeError(status: 0, reason: "TLS", message: "TLS with \(config.server) failed: \(error.message) (\(Self.tlsAdvice(error.message)); verification stays on)")
                }
                if attempt < Self.attempts, error.kind == .connect || error.kind == .timeout {
                    usleep(UInt32(Self.delay(attempt) * 1e6))
                    continue
                }
                throw KubeError(status: 0, reason: "Unreachable", message: "the Kubernetes API server at \(config.server) is unreachable: \(error.message)")
            }
            // A 500 for a patch the server cannot type (a field its schema does not declare) is not
            // going to change on a retry.
            let untypable = KubeError.isUntypablePatch(status: response.status, message: response.text)
            if (response.status == 429 || response.status >= 500), !untypable, attempt < Self.attempts {
                let retryAfter = response.header("Retry-After").flatMap(Double.init)
                usleep(UInt32(min(30, retryAfter ?? Self.delay(attempt)) * 1e6))
                continue
            }
            let json = response.body.isEmpty ? nil : try? JSONSerialization.jsonObject(with: Data(response.body))
            guard (200..<300).contains(response.status) else {
                var error = KubeError(status: response.status, json: json, method: method, path: path, server: config.server)
                if (response.status == 429 || response.status >= 500) && !untypable {
                    error.message += " (gave up after \(attempt) attempts\(response.status == 429 ? ", honouring Retry-After" : ""))"
                }
                throw error
            }
            return (response.status, json)
        }
    }

    static func delay(_ attempt: Int) -> Double { min(4, 0.2 * pow(2, Double(attempt - 1))) }
    static let attempts = 5

    /// What a TLS failure means, from libcurl's (OpenSSL's) words.
    static func tlsAdvice(_ message: String) -> String {
        let m = message.lowercased()
        if m.contains("subject name") || m.contains("does not match target host") || m.contains("no alternative certificate") {
            return "the server's certificate is for another host name: use the address its certificate names, or fix the certificate's subjectAltName"
        }
        if m.contains("expired") { return "the server's certificate has expired (or this machine's clock is wrong)" }
        if m.contains("not yet valid") { return "the server's certificate is not valid yet (or this machine's clock is wrong)" }
        if m.contains("issuer") || m.contains("self-signed") || m.contains("self signed") || m.contains("verify") {
            return "the certificate authority in the kubeconfig does not match the server's certificate"
        }
        return "the TLS handshake failed"
    }


    // MARK: discovery

    /// The resource serving `kind` in `apiVersion`, from discovery (refreshed once on a miss).
    public func resource(apiVersion: String, kind: String) throws(KubeError) -> Resource {
        let key = apiVersion + "/" + kind
        if let known = resources.withLock({ $0[key] }) { return known }
        let path = apiVersion.contains("/") ? "/apis/\(apiVersion)" : "/api/\(apiVersion)"
        let list: Any?
        do {
            list = try send("GET", path).json
        } catch {
            if error.status == 404 {
                throw KubeError(status: 404, reason: "NotFound", message: "the server does not serve \(apiVersion) (kind \(kind)): is the API group or CRD installed?")
            }
            throw error
        }
        for r in (list as? [String: Any])?["resources"] as? [[String: Any]] ?? [] {
            guard let name = r["name"] as? String, !name.contains("/"), let k = r["kind"] as? String else { continue }
            let res = Resource(groupVersion: apiVersion, name: name, kind: k, namespaced: r["namespaced"] as? Bool ?? true)
            resources.withLock { $0[apiVersion + "/" + k] = res }
        }
        guard let found = resources.withLock({ $0[key] }) else {
            throw KubeError(status: 404, reason: "NotFound", message: "unknown kind \(kind) in \(apiVersion): the server's discovery does not list it (check the kind's spelling, or install its CRD)")
        }
        return found
    }

    func objectPath(_ r: Resource, namespace: String?, name: String?) -> String {
        var p = r.prefix
        if r.namespaced { p += "/namespaces/\(namespace ?? config.namespace)" }
        p += "/\(r.name)"
        if let name { p += "/\(name)" }
        return p
    }

    // MARK: verbs

    /// Server-side apply of one object (JSON). Returns the object as the server has it
    /// (or would have it, with `dryRun`).
    /// `manager` overrides the client's field manager (distinct writers of one object, each owning its fields).
    public func apply(_ object: [String: Any], dryRun: Bool = false, force: Bool = false, manager: String? = nil) throws(KubeError) -> [String: Any] {
        let (apiVersion, kind, name, namespace) = try Self.identity(object)
        let r = try resource(apiVersion: apiVersion, kind: kind)
        var query: [(String, String)] = [("fieldManager", manager ?? fieldManager), ("fieldValidation", "Strict"), ("force", force ? "true" : "false")]
        if dryRun { query.append(("dryRun", "All")) }
        guard let body = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) else {
            throw KubeError(status: 0, reason: "Invalid", message: "\(kind) \(name) cannot be encoded as JSON")
        }
        let result = try send("PATCH", objectPath(r, namespace: namespace, name: name), query: query, body: [UInt8](body),
                              contentType: "application/apply-patch+yaml")
        return result.json as? [String: Any] ?? [:]
    }

    public func get(apiVersion: String, kind: String, namespace: String?, name: String) throws(KubeError) -> [String: Any]? {
        let r = try resource(apiVersion: apiVersion, kind: kind)
        do {
            return try send("GET", objectPath(r, namespace: namespace, name: name)).json as? [String: Any]
        } catch {
            if error.status == 404 { return nil }
            throw error
        }
    }

    /// Deletes an object (gone already is fine). `propagation`: what happens to its dependents
    /// (`Foreground`: deleted first, `Background`: deleted after, `Orphan`: kept; nil: the kind's default).
    public func delete(apiVersion: String, kind: String, namespace: String?, name: String, propagation: String? = nil) throws(KubeError) {
        let r = try resource(apiVersion: apiVersion, kind: kind)
        let body = propagation.map { Array(#"{"kind":"DeleteOptions","apiVersion":"v1","propagationPolicy":"\#($0)"}"#.utf8) }
        do {
            _ = try send("DELETE", objectPath(r, namespace: namespace, name: name), body: body, contentType: body == nil ? nil : "application/json")
        } catch {
            if error.status != 404 { throw error }
        }
    }

    /// Every object of a kind in `namespace` (the context's for nil; ignored for cluster-scoped
    /// kinds), read in pages of `pageSize` following the server's `continue` token, by name.
    public func listAll(apiVersion: String, kind: String, namespace: String?, pageSize: Int = 500) throws(KubeError) -> [String: [String: Any]] {
        let r = try resource(apiVersion: apiVersion, kind: kind)
        var objects: [String: [String: Any]] = [:]
        var token: String?
        repeat {
            var query = [("limit", String(pageSize))]
            if let token { query.append(("continue", token)) }
            let page = try send("GET", objectPath(r, namespace: namespace, name: nil), query: query).json as? [String: Any]
            for item in page?["items"] as? [[String: Any]] ?? [] {
                if let name = (item["metadata"] as? [String: Any])?["name"] as? String { objects[name] = item }
            }
            token = ((page?["metadata"] as? [String: Any])?["continue"] as? String).flatMap { $0.isEmpty ? nil : $0 }
        } while token != nil
        return objects
    }

    /// The objects of one resource in `namespace` (at most `limit`; enough to tell "empty" from "not").
    public func list(_ r: Resource, namespace: String, limit: Int = 100) throws(KubeError) -> [[String: Any]] {
        let path = r.prefix + "/namespaces/\(namespace)/\(r.name)"
        return (try send("GET", path, query: [("limit", String(limit))]).json as? [String: Any])?["items"] as? [[String: Any]] ?? []
    }

    /// Every namespaced resource the server lists (one preferred version per group), from legacy discovery.
    public func namespacedResources() throws(KubeError) -> [Resource] {
        var versions = ["v1"]
        let groups = (try send("GET", "/apis").json as? [String: Any])?["groups"] as? [[String: Any]] ?? []
        for g in groups {
            if let preferred = (g["preferredVersion"] as? [String: Any])?["groupVersion"] as? String { versions.append(preferred) }
        }
        var found: [Resource] = []
        for gv in versions {
            let path = gv.contains("/") ? "/apis/\(gv)" : "/api/\(gv)"
            for r in (try send("GET", path).json as? [String: Any])?["resources"] as? [[String: Any]] ?? [] {
                guard let name = r["name"] as? String, !name.contains("/"), let kind = r["kind"] as? String, r["namespaced"] as? Bool == true,
                      (r["verbs"] as? [String])?.contains("list") == true else { continue }
                found.append(Resource(groupVersion: gv, name: name, kind: kind, namespaced: true))
            }
        }
        return found
    }

    /// The published OpenAPI v3 document of `apiVersion` (`/openapi/v3/apis/<group>/<version>`).
    public func openAPI(apiVersion: String) throws(KubeError) -> [String: Any] {
        let index = (try send("GET", "/openapi/v3").json as? [String: Any])?["paths"] as? [String: Any] ?? [:]
        let key = apiVersion.contains("/") ? "apis/\(apiVersion)" : "api/\(apiVersion)"
        guard let url = (index[key] as? [String: Any])?["serverRelativeURL"] as? String else {
            throw KubeError(status: 404, reason: "NotFound", message: "the server publishes no OpenAPI v3 schema for \(apiVersion)")
        }
        let parts = url.split(separator: "?", maxSplits: 1)
        let query = parts.count > 1 ? parts[1].split(separator: "&").map { kv -> (String, String) in
            let p = kv.split(separator: "=", maxSplits: 1)
            return (String(p[0]), p.count > 1 ? String(p[1]) : "")
        } : []
        return try send("GET", String(parts[0]), query: query).json as? [String: Any] ?? [:]
    }

    static func identity(_ object: [String: Any]) throws(KubeError) -> (String, String, String, String?) {
        let meta = object["metadata"] as? [String: Any] ?? [:]
        guard let apiVersion = object["apiVersion"] as? String, let kind = object["kind"] as? String, let name = meta["name"] as? String else {
            throw KubeError(status: 0, reason: "Invalid", message: "an object needs apiVersion, kind and metadata.name")
        }
        return (apiVersion, kind, name, meta["namespace"] as? String)
    }
}

/// An answer from the API server that is not success, or no answer at all, in words.
public struct KubeError: Error, Sendable, CustomStringConvertible {
    public var status: Int
    public var reason: String
    public var message: String

    public init(status: Int, reason: String, message: String) {
        self.status = status
        self.reason = reason
        self.message = message
    }

    /// From a Status body: its reason and message, and for conflicts and invalid objects
    /// the fields (and managers) the server names.
    init(status: Int, json: Any?, method: String, path: String, server: String) {
        self.status = status
        let body = json as? [String: Any] ?? [:]
        reason = body["reason"] as? String ?? "HTTP \(status)"
        var text = body["message"] as? String ?? "\(method) \(path) answered \(status)"
        let causes = ((body["details"] as? [String: Any])?["causes"] as? [[String: Any]]) ?? []
        if status == 409, !causes.isEmpty {
            // The server's message already names each conflict ("Apply failed with 1 conflict: conflict with ...").
            let named = causes.compactMap { $0["message"] as? String }.filter { !text.contains($0) }
            text += (named.isEmpty ? "" : " — fields owned by another manager: " + named.joined(separator: "; "))
                + " (set 'force: true' under deploy to take them over)"
        } else if status == 422, !causes.isEmpty {
            text += " — " + causes.map { "\($0["field"] as? String ?? "?"): \($0["message"] as? String ?? "")" }.joined(separator: "; ")
        } else if status == 401 {
            text = "the API server at \(server) refused the credentials (401 Unauthorized: \(text)); the token may have expired"
        } else if status == 403 {
            text = "forbidden (403): \(text)"
        }
        message = text
    }

    public var description: String { message }

    /// The server refuses the object itself (an invalid or forbidden object, an unknown kind, a
    /// field its schema does not declare) rather than failing to answer: sending it again will not help.
    public var refusesObject: Bool {
        (400..<500).contains(status) || Self.isUntypablePatch(status: status, message: message)
    }

    /// A server-side apply whose patch the server cannot type (a field its schema does not
    /// declare): a 500, but not one that a retry changes.
    static func isUntypablePatch(status: Int, message: String) -> Bool {
        status == 500 && message.contains("failed to create typed patch object")
    }
}
