import Foundation

/// A small HTTP server (Python's http.server) on 127.0.0.1 that echoes what it got,
/// for testing the libcurl adapter against a real socket.
///
/// - `ANY /echo...`: 200 with JSON {method, path, headers, body_length, body_sha256}
/// - `GET /status/NNN`: that status, with a JSON Status body
/// - `GET /slow?seconds=N`: answers after N seconds
public final class EchoHTTPServer: @unchecked Sendable {
    public let server: PythonScriptServer
    public var port: Int { server.port }
    public var baseURL: String { "http://127.0.0.1:\(port)" }

    public init() throws { server = try PythonScriptServer(script: Self.script) }

    static let script = #"""
    import hashlib, json, time
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from urllib.parse import urlparse, parse_qs

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        def log_message(self, *args): pass
        def reply(self, status, payload):
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("X-Connection-Id", str(id(self.connection)))
            self.end_headers()
            self.wfile.write(data)
        def handle_any(self):
            url = urlparse(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            if url.path.startswith("/status/"):
                code = int(url.path.split("/")[2])
                return self.reply(code, {"kind": "Status", "code": code, "message": "status %d as asked" % code})
            if url.path == "/slow":
                time.sleep(float(parse_qs(url.query).get("seconds", ["2"])[0]))
            self.reply(200, {"method": self.command, "path": self.path,
                             "headers": {k.lower(): v for k, v in self.headers.items()},
                             "body_length": len(body), "body_sha256": hashlib.sha256(body).hexdigest()})
        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = handle_any

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print("PORT", server.server_address[1], flush=True)
    server.serve_forever()
    """#
}
