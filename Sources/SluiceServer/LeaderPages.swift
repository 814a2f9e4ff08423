import Foundation
import Hummingbird
import HTTPTypes
import SluiceHTTP
import SluiceRunner

/// A follower serves the web UI's pages from the leader: the runs live in the leader's state
/// directory, not in the follower's. `/metrics`, the probes and webhooks stay local.
extension ControllerServer {
    /// The leader's answer to this GET, or nil when this replica leads, the leader's URL is
    /// unknown, or the leader cannot be reached (then the follower's own pages are served).
    func fromLeader(_ request: Request) async -> Response? {
        let leadership = leadership.current
        guard !leadership.leading, var base = leadership.leaderURL else { return nil }
        while base.hasSuffix("/") { base.removeLast() }
        let url = base + (request.uri.path.isEmpty ? "/" : request.uri.path) + (request.uri.query.map { "?" + $0 } ?? "")
        guard let answer = try? await Offload.run({ try HTTPClient().send(SluiceHTTP.HTTPRequest(url: url, timeout: 5)) }) else { return nil }
        var headers: HTTPFields = [:]
        if let type = answer.header("content-type") { headers[.contentType] = type }
        headers[HTTPField.Name("X-Sluice-Served-By")!] = "leader"
        return Response(status: .init(code: answer.status), headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: answer.body)))
    }
}
