import Foundation

/// A model server's request-latency histogram (`http_duration_seconds`, per `version` label) in
/// the Prometheus format, as a real server would export it: on every scrape each version has
/// served 200 more requests whose latencies are drawn from an exponential distribution of that
/// version's mean. A version marked `spiky` is `spikeFactor` times slower during the first half
/// of every `spikePeriod` seconds of wall time — all spiky versions at once, as when a traffic
/// spike hits the stable version and the canary alike. Versions are set by writing the file.
public final class LatencyExporter: @unchecked Sendable {
    public struct Version: Codable, Sendable {
        public var mean: Double
        public var spiky: Bool
        public init(mean: Double, spiky: Bool = false) {
            self.mean = mean
            self.spiky = spiky
        }
    }

    public let server: PythonScriptServer
    public let file: String
    public var target: String { "127.0.0.1:\(server.port)" }

    public init(_ versions: [String: Version], spikeFactor: Double = 4, spikePeriod: Double = 6) throws {
        file = NSTemporaryDirectory() + "sluice-latency-\(UUID().uuidString.prefix(8)).json"
        try Self.write(versions, to: file)
        server = try PythonScriptServer(script: MetricsExporter.script(metrics: #"""
            BUCKETS = [0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5, 0.6, 0.8, 1.2, 1.6, 3.2]
            SPIKE_FACTOR, SPIKE_PERIOD = float(sys.argv[2]), float(sys.argv[3])
            state, lock, rng = {}, threading.Lock(), random.Random(7)
            def metrics():
                versions = json.load(open(sys.argv[1]))
                spiking = (time.time() % SPIKE_PERIOD) < SPIKE_PERIOD / 2
                lines = ["# TYPE http_duration_seconds histogram"]
                with lock:
                    for version, v in sorted(versions.items()):
                        s = state.setdefault(version, {"buckets": [0] * len(BUCKETS), "sum": 0.0, "count": 0})
                        mean = v["mean"] * (SPIKE_FACTOR if v.get("spiky") and spiking else 1)
                        for _ in range(200):
                            x = rng.expovariate(1 / mean)
                            s["sum"] += x
                            s["count"] += 1
                            for i, le in enumerate(BUCKETS):
                                if x <= le: s["buckets"][i] += 1
                        for le, n in zip(BUCKETS, s["buckets"]):
                            lines.append('http_duration_seconds_bucket{version="%s",le="%s"} %d' % (version, le, n))
                        lines.append('http_duration_seconds_bucket{version="%s",le="+Inf"} %d' % (version, s["count"]))
                        lines.append('http_duration_seconds_sum{version="%s"} %f' % (version, s["sum"]))
                        lines.append('http_duration_seconds_count{version="%s"} %d' % (version, s["count"]))
                return ("\n".join(lines) + "\n").encode()
            """#), arguments: [file, String(spikeFactor), String(spikePeriod)])
    }

    public func set(_ versions: [String: Version]) throws { try Self.write(versions, to: file) }

    private static func write(_ versions: [String: Version], to file: String) throws {
        try JSONEncoder().encode(versions).write(to: URL(fileURLWithPath: file), options: .atomic)
    }

    /// The 90th percentile of a version's latency over the last 3 s, `{{version}}` left to fill.
    public static let p90 = #"histogram_quantile(0.9, sum by (le) (rate(http_duration_seconds_bucket{version="{{version}}"}[3s])))"#

    deinit { try? FileManager.default.removeItem(atPath: file) }
}
