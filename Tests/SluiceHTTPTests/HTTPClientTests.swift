import Crypto
import Foundation
import Testing
import SluiceTestSupport
@testable import SluiceHTTP

@Suite(.serialized) struct HTTPClientTests {
    let server: EchoHTTPServer
    init() throws { server = try EchoHTTPServer() }

    func json(_ r: HTTPResponse) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(r.body)) as? [String: Any])
    }

    @Test func getWithHeaders() throws {
        let client = HTTPClient()
        let r = try client.send(HTTPRequest(url: server.baseURL + "/echo?q=1", headers: [("Accept", "application/json"), ("X-Trace", "abc")]))
        #expect(r.status == 200)
        #expect(r.header("Content-Type") == "application/json")
        let body = try json(r)
        #expect(body["method"] as? String == "GET")
        #expect(body["path"] as? String == "/echo?q=1")
        let headers = try #require(body["headers"] as? [String: String])
        #expect(headers["x-trace"] == "abc")
    }

    @Test func largeBodyArrivesIntact() throws {
        // A body built in a temporary that is gone before the transfer: must still arrive byte for byte.
        let client = HTTPClient()
        func makeRequest() -> HTTPRequest {
            let bytes = (0..<3_000_000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
            return HTTPRequest(method: "PATCH", url: server.baseURL + "/echo", headers: [("Content-Type", "application/apply-patch+yaml")], body: bytes)
        }
        let request = makeRequest()
        let expected = SHA256.hash(data: request.body!).map { String(format: "%02x", $0) }.joined()
        let r = try client.send(request)
        let body = try json(r)
        #expect(body["method"] as? String == "PATCH")
        #expect(body["body_length"] as? Int == 3_000_000)
        #expect(body["body_sha256"] as? String == expected)
    }

    @Test func errorStatusesAreResponsesNotThrows() throws {
        let r = try HTTPClient().send(HTTPRequest(url: server.baseURL + "/status/422"))
        #expect(r.status == 422)
        #expect(r.text.contains("status 422 as asked"))
    }

    @Test func connectionIsReused() throws {
        let client = HTTPClient()
        let a = try client.send(HTTPRequest(url: server.baseURL + "/echo"))
        let b = try client.send(HTTPRequest(url: server.baseURL + "/echo"))
        #expect(a.header("X-Connection-Id") != nil)
        #expect(a.header("X-Connection-Id") == b.header("X-Connection-Id"))
    }

    @Test func refusedConnectionNamesTheURL() throws {
        // Bind a port, close it, and connect: nothing listens there.
        let url = "http://127.0.0.1:\(try FreePort.next())/api"
        do {
            _ = try HTTPClient().send(HTTPRequest(url: url, timeout: 5))
            Issue.record("expected a connection error")
        } catch {
            #expect(error.kind == .connect)
            #expect(error.description.hasPrefix(url))
        }
    }

    @Test func timeoutIsReported() throws {
        do {
            _ = try HTTPClient().send(HTTPRequest(url: server.baseURL + "/slow?seconds=3", timeout: 0.5))
            Issue.record("expected a timeout")
        } catch {
            #expect(error.kind == .timeout, "\(error)")
            #expect(error.description.contains("/slow"))
        }
    }

    @Test func tlsVerificationIsOnByDefault() throws {
        // A plain-HTTP server spoken to with https fails the TLS handshake: never a silent downgrade.
        do {
            _ = try HTTPClient().send(HTTPRequest(url: "https://127.0.0.1:\(server.port)/echo", timeout: 5))
            Issue.record("expected a TLS error")
        } catch {
            #expect(error.kind == .tls || error.kind == .other)
        }
        #expect(HTTPClient().tls.insecureSkipVerify == false)
    }
}

extension HTTPClientTests {
    @Test func aFileBodyIsStreamedAndAResponseCanBeReceivedInPieces() throws {
        let directory = TemporaryDirectory(prefix: "sluice-upload")
        let bytes = (0..<2_500_000).map { UInt8(truncatingIfNeeded: $0 &* 13 &+ 1) }
        let file = directory.write("model.bin", bytes: bytes)
        let client = HTTPClient()
        let sent = try client.send(HTTPRequest(method: "PUT", url: server.baseURL + "/echo", bodyFile: file))
        let body = try json(sent)
        #expect(body["body_length"] as? Int == bytes.count)
        #expect(body["body_sha256"] as? String == SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined())

        var received = 0
        var pieces = 0
        let r = try client.send(HTTPRequest(url: server.baseURL + "/echo")) { chunk in
            received += chunk.count
            pieces += 1
        }
        #expect(r.status == 200 && r.body.isEmpty && received > 0 && pieces >= 1, "a 2xx body goes to the receiver only")
        let failed = try client.send(HTTPRequest(url: server.baseURL + "/status/404")) { _ in Issue.record("an error body is collected, not received") }
        #expect(failed.status == 404)
    }

    @Test func aMissingBodyFileIsAnErrorNotACrash() {
        #expect(throws: HTTPError.self) { try HTTPClient().send(HTTPRequest(method: "PUT", url: server.baseURL + "/echo", bodyFile: "/nonexistent/file")) }
    }
}
