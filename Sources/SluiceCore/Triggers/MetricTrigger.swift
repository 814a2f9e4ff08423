/// Retrain when a live metric crosses a threshold, e.g. accuracy measured in production
/// below 0.85 or a drift score above 0.2, read from Prometheus with an instant query.
public struct MetricTrigger: Hashable, Sendable {
    public enum Comparison: String, Hashable, Sendable { case above, below }

    public var query: String
    public var comparison: Comparison
    public var threshold: Double
    /// The Prometheus server (default: `SLUICE_PROMETHEUS_URL`).
    public var url: String?

    public init(query: String, comparison: Comparison, threshold: Double, url: String? = nil) {
        self.query = query
        self.comparison = comparison
        self.threshold = threshold
        self.url = url
    }

    /// Whether any of the query's values crosses the threshold (strictly).
    public func fires(on values: [Double]) -> Bool {
        values.contains { comparison == .above ? $0 > threshold : $0 < threshold }
    }

    public var description: String { "\(query) \(comparison == .above ? ">" : "<") \(threshold)" }
}
