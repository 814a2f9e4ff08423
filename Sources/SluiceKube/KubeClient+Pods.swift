import Foundation
import SluiceHTTP

/// Listing by label, and a pod's log as a live stream.
extension KubeClient {
    /// The objects of a kind in `namespace` whose labels match `labelSelector` (e.g. `job-name=x`).
    public func list(apiVersion: String, kind: String, namespace: String, labelSelector: String) throws(KubeError) -> [[String: Any]] {
        try list(apiVersion: apiVersion, kind: kind, namespace: namespace, labelSelector: labelSelector, fieldSelector: nil).items
    }

    /// Streams one container's log (`follow=true`, each line prefixed by its RFC 3339 time) into
    /// `receive` until the server ends it: when the container has ended, or the connection drops
    /// (the caller reconnects with `since`, the last time it saw). Runs on the calling thread,
    /// over a connection of its own.
    public func followLog(namespace: String, pod: String, container: String, since: String?,
                          receive: (UnsafeRawBufferPointer) -> Void) throws(KubeError) {
        let url = url("/api/v1/namespaces/\(namespace)/pods/\(pod)/log",
                      query: [("container", container), ("follow", "true"), ("timestamps", "true")] + (since.map { [("sinceTime", $0)] } ?? []))
        let headers = headers(accept: "text/plain")
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
