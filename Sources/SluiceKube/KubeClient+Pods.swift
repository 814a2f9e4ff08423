import Foundation
import SluiceHTTP

/// A pod's log as a live stream.
extension KubeClient {
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
        guard (200..<300).contains(response.status) else { throw refusal(response, path: "pods/\(pod)/log", what: "the log of pod \(pod)") }
    }

    /// The error of a streamed request the server refused: its Status object, or the answer as it
    /// came when it is not one.
    func refusal(_ response: HTTPResponse, path: String, what: String) -> KubeError {
        do {
            let json = try JSONSerialization.jsonObject(with: Data(response.body))
            return KubeError(status: response.status, json: json, method: "GET", path: path, server: config.server)
        } catch {
            return KubeError(status: response.status, reason: "HTTP \(response.status)", message: "\(what): \(response.text.prefix(300))")
        }
    }
}
