import Foundation
import SluiceHTTP

/// One change from a watch stream: `ADDED`, `MODIFIED`, `DELETED` with the object as it is
/// now (as it was last, for `DELETED`), or `BOOKMARK` with only a newer resourceVersion.
public struct WatchEvent: @unchecked Sendable {
    // @unchecked: the object is a decoded JSON tree, never mutated after decoding.
    public var type: String
    public var object: [String: Any]
    public var resourceVersion: String? { (object["metadata"] as? [String: Any])?["resourceVersion"] as? String }
}

/// A list and the resourceVersion it was read at: where a watch of the same objects starts.
public struct VersionedList: @unchecked Sendable {
    // @unchecked: decoded JSON, read only.
    public var items: [[String: Any]]
    public var resourceVersion: String
}

/// Listing and watching by selector (`job-name=x`, `metadata.name=x`): what an informer does, for one selector.
extension KubeClient {
    /// The objects of a kind in `namespace` that the selectors match, and the list's resourceVersion.
    public func list(apiVersion: String, kind: String, namespace: String, labelSelector: String?,
                     fieldSelector: String? = nil) throws(KubeError) -> VersionedList {
        let r = try resource(apiVersion: apiVersion, kind: kind)
        let query = Self.selectors(labelSelector, fieldSelector)
        let page = try send("GET", objectPath(r, namespace: namespace, name: nil), query: query).json as? [String: Any]
        return VersionedList(items: page?["items"] as? [[String: Any]] ?? [],
                             resourceVersion: (page?["metadata"] as? [String: Any])?["resourceVersion"] as? String ?? "")
    }

    /// Streams the changes after `resourceVersion` to the objects the selectors match
    /// (`?watch=true&allowWatchBookmarks=true`), one `onEvent` per change, until the server ends
    /// the stream (after `timeoutSeconds`, or when it restarts) or `stopped()` says so (asked
    /// after each change and about once a second). Runs on the calling thread, over a connection
    /// of its own. Throws a `KubeError` with status 410 when `resourceVersion` is older than the
    /// server keeps (the caller lists again), and for any other refusal.
    public func watch(apiVersion: String, kind: String, namespace: String, labelSelector: String?, fieldSelector: String?,
                      resourceVersion: String, timeoutSeconds: Int = 300, stopped: @escaping () -> Bool,
                      onEvent: (WatchEvent) -> Void) throws(KubeError) {
        let r = try resource(apiVersion: apiVersion, kind: kind)
        let url = url(objectPath(r, namespace: namespace, name: nil), query: Self.selectors(labelSelector, fieldSelector) + [
            ("watch", "true"), ("allowWatchBookmarks", "true"), ("resourceVersion", resourceVersion), ("timeoutSeconds", String(timeoutSeconds)),
        ])
        let headers = headers(accept: "application/json")

        var line: [UInt8] = []
        var failure: KubeError?
        func take(_ bytes: [UInt8]) {
            guard failure == nil, !bytes.isEmpty else { return }
            do {
                guard let event = try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any],
                      let type = event["type"] as? String, let object = event["object"] as? [String: Any] else {
                    failure = KubeError(status: 0, reason: "BadWatch", message: "a watch of \(r.name) sent a line that is not an event: \(String(decoding: bytes.prefix(200), as: UTF8.self))")
                    return
                }
                if type == "ERROR" {
                    // The server ends a watch it cannot serve with a Status: 410 when the version is gone.
                    failure = KubeError(status: object["code"] as? Int ?? 0, json: object, method: "GET", path: "\(r.name)?watch=true", server: config.server)
                    return
                }
                onEvent(WatchEvent(type: type, object: object))
            } catch {
                failure = KubeError(status: 0, reason: "BadWatch", message: "a watch of \(r.name) sent a line that is not JSON: \(error)")
            }
        }
        let response: HTTPResponse
        do {
            // The server ends the stream after timeoutSeconds; the client's own limit is a little later.
            response = try HTTPClient(tls: config.tls).send(HTTPRequest(url: url, headers: headers, timeout: Double(timeoutSeconds) + 30), receive: { chunk in
                for byte in chunk {
                    if byte == 10 {
                        take(line)
                        line.removeAll(keepingCapacity: true)
                    } else if line.count < Self.watchLineLimit {
                        line.append(byte)
                    }
                }
            }, stopped: { failure != nil || stopped() })
        } catch {
            throw KubeError(status: 0, reason: "Unreachable", message: "a watch of \(r.name) at \(config.server) failed: \(error.message)")
        }
        if let failure { throw failure }
        guard (200..<300).contains(response.status) else { throw refusal(response, path: "\(r.name)?watch=true", what: "a watch of \(r.name)") }
    }

    /// An event larger than this (an object of 16 MiB; etcd's limit is 1.5 MiB) is cut, and then
    /// refused as not JSON rather than held in memory.
    static let watchLineLimit = 16 << 20

    static func selectors(_ label: String?, _ field: String?) -> [(String, String)] {
        (label.map { [("labelSelector", $0)] } ?? []) + (field.map { [("fieldSelector", $0)] } ?? [])
    }
}
