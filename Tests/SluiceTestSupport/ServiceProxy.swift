import Foundation

/// A Kubernetes Service in front of a Deployment's replicas, as kube-proxy makes one: each new
/// TCP connection goes to one of the endpoints chosen at random, and an endpoint that refuses
/// (its pod is gone) is skipped, as the endpoints controller would drop it. The endpoints can
/// change while it runs (`endpoints(_:)`). Bytes pass through untouched, both ways.
public final class ServiceProxy: @unchecked Sendable {
    // @unchecked: immutable after init; the endpoints file is rewritten atomically.
    let server: PythonScriptServer
    let directory = TemporaryDirectory(prefix: "sluice-service")
    public var url: String { "http://127.0.0.1:\(server.port)" }
    var file: String { directory.path + "/endpoints" }

    public init() throws {
        FileManager.default.createFile(atPath: directory.path + "/endpoints", contents: Data())
        server = try PythonScriptServer(script: Self.script, arguments: [directory.path + "/endpoints"])
    }

    /// The ports of 127.0.0.1 that connections go to from now on.
    public func endpoints(_ ports: [Int]) throws {
        try ports.map(String.init).joined(separator: "\n").write(toFile: file, atomically: true, encoding: .utf8)
    }

    static let script = #"""
import random, socket, sys, threading

endpoints = sys.argv[1]

def pipe(source, target):
    try:
        while True:
            chunk = source.recv(65536)
            if not chunk:
                break
            target.sendall(chunk)
        target.shutdown(socket.SHUT_WR)
    except OSError:
        pass

def handle(client):
    ports = [int(p) for p in open(endpoints).read().split()]
    random.shuffle(ports)
    for port in ports:
        try:
            upstream = socket.create_connection(("127.0.0.1", port))
        except OSError:
            continue
        back = threading.Thread(target=pipe, args=(upstream, client), daemon=True)
        back.start()
        pipe(client, upstream)
        back.join()
        upstream.close()
        break
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
