import Foundation
import SluiceHTTP

/// Listing by label, and a pod's log as a live stream.
extension KubeClient {
    /// The objects of a kind in `namespace` whose labels match `labelSelector` (e.g. `job-name=x`).
    public func list(apiVersion: String, kind: String, namespace: String, labelSelector: String) throws(KubeError) -> [[String: Any]] {
        let r = try resource(apiVersion: apiVersion, kind: kind)
        let page = try send("GET", objectPath(r, namespace: namespace, name: nil), query: [("labelSelector", labelSelector)]).json
        return (page as? [String: Any])?["items"] as? [[String: Any]] ?? []
    }

    /// Streams one container's log (`follow=true`, each line prefixed by its RFC 3339 time) into
    /// `receive` until the server ends it: when the container has ended, or the connection drops
    /// (the caller reconnects with `since`, the last time it saw). Runs on the calling thread,
    /// over a connection of its own.
    public func followLog(namespace: String, pod: String, container: String, since: String?,
                          receive: (UnsafeRawBufferPointer) -> Void) throws(KubeError) {
        var url = config.server
        while url.hasSuffix("/") { url.removeLast() }
        url += "/api/v1/namespaces/\(namespace)/pods/\(pod)/log?container=\(URLEncoding.component(container))&follow=true&timestamps=true"
        if let since { url += "&sinceTime=\(URLEncoding.component(since))" }
        var headers: [(name: String, value: String)] = [("Accept", "text/plain"), ("User-Agent", "sluice")]
        if let token = config.token { headers.append(("Authorization", "Bearer \(token)")) }
        let response: HTTPResponse
        do {
            // A day: a stage's log may stream that long; the server ends it with the container.
            response = try HTTPClient(tls: config.tls).send(HTTPRequest(url: url, headers: headers, timeout: 86_400), receive: receive)
        } catch {
            throw KubeError(status: 0, reason: "Unreachable", message: "the log of pod \(pod) could not be read from \(config.server): \(error.message)")
        }
        guard (200..<300).contains(response.status) else {
            // The API server answers errors with a Status object; anything else is quoted as it came.
            let json: Any
            do { json = try JSONSerialization.jsonObject(with: Data(response.body)) } catch {
                throw KubeError(status: response.status, reason: "HTTP \(response.status)", message: "the log of pod \(pod): \(response.text.prefix(300))")
            }
            throw KubeError(status: response.status, json: json, method: "GET", path: "pods/\(pod)/log", server: config.server)
        }
    }
}
