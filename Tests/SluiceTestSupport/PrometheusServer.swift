import Foundation

/// A Prometheus-format exporter whose values a test sets by writing a file.
public final class MetricsExporter: @unchecked Sendable {
    public let server: PythonScriptServer
    public let file: String
    public var target: String { "127.0.0.1:\(server.port)" }

    public init(_ text: String) throws {
        file = NSTemporaryDirectory() + "sluice-exporter-\(UUID().uuidString.prefix(8)).prom"
        try text.write(toFile: file, atomically: true, encoding: .utf8)
        server = try PythonScriptServer(script: Self.script(metrics: #"""
            def metrics():
                return open(sys.argv[1], "rb").read()
            """#), arguments: [file])
    }

    /// A Prometheus exporter in Python: `metrics` defines `metrics()`, the bytes of each scrape
    /// (it may use `sys`, `json`, `random`, `threading`, `time`).
    static func script(metrics: String) -> String {
        #"""
        import json, random, sys, threading, time
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
        \#(metrics)
        class H(BaseHTTPRequestHandler):
            def log_message(self, *a): pass
            def do_GET(self):
                data = metrics()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
        s = ThreadingHTTPServer(("127.0.0.1", 0), H)
        print("PORT", s.server_address[1], flush=True)
        s.serve_forever()
        """#
    }

    public func set(_ text: String) throws { try text.write(toFile: file, atomically: true, encoding: .utf8) }

    deinit { try? FileManager.default.removeItem(atPath: file) }
}

/// A real `prometheus` (Debian's package) on 127.0.0.1 scraping one target every second.
public final class PrometheusServer: @unchecked Sendable {
    public let process: BackgroundProcess
    public let port: Int
    public let directory = TemporaryDirectory(prefix: "sluice-prometheus")
    public var url: String { "http://127.0.0.1:\(port)" }

    public static var isInstalled: Bool { ProcessRunner.has("prometheus") }

    public init(scraping target: String) throws {
        port = try FreePort.next()
        let config = directory.write("prometheus.yml", """
            global: { scrape_interval: 1s, evaluation_interval: 1s }
            scrape_configs:
              - job_name: model
                static_configs: [ { targets: ["\(target)"] } ]
            """)
        process = try BackgroundProcess("prometheus", [
            "--config.file=\(config)", "--storage.tsdb.path=\(directory.path)/data",
            "--web.listen-address=127.0.0.1:\(port)",
        ])
        try FreePort.waitUntilListening(port)
    }

    /// Waits until an instant query answers with `expected` (the scrape has happened).
    public func waitFor(_ query: String, value expected: String, timeout: TimeInterval = 30) throws {
        try poll(query, until: "became \(expected)", timeout: timeout) { $0.contains("\"\(expected)\"") }
    }

    /// Waits until `query`'s first value is at least `minimum` (e.g. enough scrapes are stored).
    public func waitUntil(_ query: String, isAtLeast minimum: Double, timeout: TimeInterval = 60) throws {
        try poll(query, until: "reached \(minimum)", timeout: timeout) { answer in
            guard let json = (try? JSONSerialization.jsonObject(with: Data(answer.utf8))) as? [String: Any],
                  let result = (json["data"] as? [String: Any])?["result"] as? [[String: Any]],
                  let value = (result.first?["value"] as? [Any])?.last as? String, let number = Double(value) else { return false }
            return number >= minimum
        }
    }

    /// Asks `query` until `accept` takes the answer (Prometheus scrapes on its own clock: nothing to wait on but the answer).
    private func poll(_ query: String, until what: String, timeout: TimeInterval, accept: (String) -> Bool) throws {
        let deadline = Date().addingTimeInterval(timeout)
        let q = query.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? query
        var last = ""
        while Date() < deadline {
            if let r = try? ProcessRunner.run("curl", ["-s", "\(url)/api/v1/query?query=\(q)"]) {
                last = r.stdout
                if accept(r.stdout) { return }
            }
            Thread.sleep(forTimeInterval: 0.3)
        }
        throw NSError(domain: "PrometheusServer", code: 1, userInfo: [NSLocalizedDescriptionKey: "\(query) never \(what): \(last)"])
    }

    deinit { process.stop() }
}

/// What `examples/iris`'s staging analysis needs: a Prometheus scraping the port its smoke
/// test serves the version on (a free one here, not the example's 18080, so tests can run side by side).
public final class IrisStagingPrometheus: @unchecked Sendable {
    public let port: Int
    public let prometheus: PrometheusServer

    public init() throws {
        port = try FreePort.next()
        prometheus = try PrometheusServer(scraping: "127.0.0.1:\(port)")
    }

    /// The example's `sluice.yaml` with this smoke-test port.
    public func adapt(_ spec: String) -> String { spec.replacingOccurrences(of: "port: 18080", with: "port: \(port)") }

    public var environment: [String: String] { ["PROMETHEUS_URL": prometheus.url] }
}
