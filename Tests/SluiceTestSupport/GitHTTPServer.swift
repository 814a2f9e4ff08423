import Foundation

/// Real `git http-backend` (smart HTTP) behind a small Python HTTP server on
/// 127.0.0.1, optionally requiring HTTP Basic auth with one token.
public final class GitHTTPServer: @unchecked Sendable {
    public let server: PythonScriptServer
    public var port: Int { server.port }

    /// - Parameters:
    ///   - projectRoot: folder holding bare repositories.
    ///   - token: when set, requests need `Authorization: Basic base64(user:token)`.
    public init(projectRoot: String, token: String? = nil) throws {
        server = try PythonScriptServer(script: Self.script, arguments: [projectRoot, token ?? ""])
    }

    public func url(_ name: String) -> String { "http://127.0.0.1:\(port)/\(name)" }

    static let script = #"""
    import base64, os, subprocess, sys
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from urllib.parse import urlparse

    ROOT, TOKEN = sys.argv[1], sys.argv[2]

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        def log_message(self, *args): pass
        def handle_any(self):
            if TOKEN:
                auth = self.headers.get("Authorization", "")
                ok = auth.startswith("Basic ") and base64.b64decode(auth[6:]).decode().split(":", 1)[-1] == TOKEN
                if not ok:
                    self.send_response(401)
                    self.send_header("WWW-Authenticate", 'Basic realm="git"')
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
            url = urlparse(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            env = dict(os.environ, GIT_PROJECT_ROOT=ROOT, GIT_HTTP_EXPORT_ALL="1", PATH_INFO=url.path,
                       QUERY_STRING=url.query, REQUEST_METHOD=self.command,
                       CONTENT_TYPE=self.headers.get("Content-Type", ""), CONTENT_LENGTH=str(len(body)),
                       REMOTE_ADDR="127.0.0.1")
            if self.headers.get("Git-Protocol"):
                env["GIT_PROTOCOL"] = self.headers["Git-Protocol"]
            out = subprocess.run(["git", "http-backend"], input=body, env=env, capture_output=True).stdout
            head, _, payload = out.partition(b"\r\n\r\n")
            status = 200
            headers = []
            for line in head.decode().split("\r\n"):
                if not line:
                    continue
                name, _, value = line.partition(":")
                if name.lower() == "status":
                    status = int(value.strip().split()[0])
                else:
                    headers.append((name, value.strip()))
            self.send_response(status)
            for name, value in headers:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        do_GET = do_POST = handle_any

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print("PORT", server.server_address[1], flush=True)
    server.serve_forever()
    """#
}
