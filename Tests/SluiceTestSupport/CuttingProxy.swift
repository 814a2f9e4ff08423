import Foundation

/// An HTTP proxy on 127.0.0.1 in front of a real server that, while armed, cuts artifact
/// uploads halfway: it forwards the request line, the headers and half the body of a `PUT`
/// whose path contains `cutting` (MLflow's artifact uploads by default), then resets both
/// connections, as a network failure mid-upload would. Every other request passes through (one
/// request per connection).
public final class CuttingProxy: @unchecked Sendable {
    // @unchecked: immutable after init; the server is stopped once, in deinit.
    let server: PythonScriptServer
    let directory = TemporaryDirectory(prefix: "sluice-proxy")
    public var url: String { "http://127.0.0.1:\(server.port)" }
    var flag: String { directory.path + "/armed" }

    public init(upstreamPort: Int, cutting: String = "/mlflow-artifacts/artifacts/") throws {
        server = try PythonScriptServer(script: Self.script, arguments: [String(upstreamPort), directory.path + "/armed", cutting])
    }

    /// Cuts uploads from now on (`true`) or lets them through.
    public func cutUploads(_ armed: Bool) {
        if armed { FileManager.default.createFile(atPath: flag, contents: Data()) } else { try? FileManager.default.removeItem(atPath: flag) }
    }

    /// The paths of the uploads cut so far.
    public var cuts: [String] {
        ((try? String(contentsOfFile: flag + ".cuts", encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    static let script = #"""
import os, socket, struct, sys, threading

upstream_port, flag, cutting = int(sys.argv[1]), sys.argv[2], sys.argv[3].encode()

def read_head(conn):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return None, b""
        data += chunk
    return data.split(b"\r\n\r\n", 1)

def reset(sock):
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()

def handle(client):
    try:
        head, body = read_head(client)
        if head is None:
            return
        lines = head.split(b"\r\n")
        method, path = lines[0].split(b" ")[:2]
        headers = [h for h in lines[1:] if not h.lower().startswith(b"connection:")]
        length = 0
        for h in headers:
            if h.lower().startswith(b"content-length:"):
                length = int(h.split(b":", 1)[1])
        while len(body) < length:
            chunk = client.recv(min(65536, length - len(body)))
            if not chunk:
                return
            body += chunk
        upstream = socket.create_connection(("127.0.0.1", upstream_port))
        request = b"\r\n".join([lines[0]] + headers + [b"Connection: close"]) + b"\r\n\r\n"
        if os.path.exists(flag) and method == b"PUT" and cutting in path and length > 1:
            upstream.sendall(request + body[: length // 2])
            with open(flag + ".cuts", "a") as log:
                log.write(path.decode() + "\n")
            reset(upstream)
            reset(client)
            return
        upstream.sendall(request + body)
        while True:
            chunk = upstream.recv(65536)
            if not chunk:
                break
            client.sendall(chunk)
        upstream.close()
        client.close()
    except OSError:
        client.close()

listener = socket.socket()
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(("127.0.0.1", 0))
listener.listen(64)
print("PORT", listener.getsockname()[1], flush=True)
while True:
    conn, _ = listener.accept()
    threading.Thread(target=handle, args=(conn,), daemon=True).start()
"""#
}
