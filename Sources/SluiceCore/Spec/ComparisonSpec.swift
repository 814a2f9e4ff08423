/// An analysis that compares instead of bounding (`compare:` of a check): the same query is
/// asked for the version under test and for a baseline version over the same windows
/// (`query_range`), and the version fails when it is worse — by the one-sided Mann–Whitney U
/// test at `confidence`, by more than `maxRelativeChange` of the baseline's mean, or, with both
/// set, only when both say so (Kayenta's significance with an effect size). `{{version}}` and
/// `{{model.version}}` are filled with each version's number in turn, `{{environment}}` with
/// the environment each runs in. Too few samples is inconclusive, never a pass.
public struct Comparison: Hashable, Sendable {
    public enum Baseline: String, Hashable, Sendable, CaseIterable {
        /// The version the environment ran before the canary (`strategy.canary.analysis` only).
        case stable
        /// The registry's production version, in the last environment.
        case production
    }

    /// Which way is better.
    public enum Direction: String, Hashable, Sendable, CaseIterable {
        /// Lower is better (latency, error ratio): higher values make the version worse.
        case lower
        /// Higher is better (accuracy, throughput).
        case higher
    }

    public var baseline: Baseline
    public var query: String
    public var direction: Direction = .lower
    /// The test's confidence (`test: mann-whitney`); nil: no test.
    public var confidence: Double?
    /// The largest change of the mean toward worse, as a fraction of the baseline's mean.
    public var maxRelativeChange: Double?
    /// One window per interval, `count` windows: the first is the interval just before the
    /// analysis starts, the next ones follow as time passes.
    public var intervalSeconds = 60
    public var count = 1
    /// The resolution of each window (Prometheus's `step`); default: a tenth of the interval, at least 1 s.
    public var stepSeconds: Int?
    /// Fewer samples than this, of either version, is inconclusive.
    public var minSamples = 10
    /// The Prometheus server (default: `PROMETHEUS_URL` of Sluice's environment).
    public var url: String?

    /// Prometheus refuses a range query of more points than this per series.
    public static let maxPointsPerWindow = 11_000
    /// Samples per version beyond this are refused when the spec is read (each judgement sorts them all).
    public static let maxSamples = 100_000

    public init(baseline: Baseline, query: String) {
        self.baseline = baseline
        self.query = query
    }

    public var step: Int { stepSeconds ?? max(1, intervalSeconds / 10) }
    public var pointsPerWindow: Int { intervalSeconds / max(1, step) }

    /// The query for one version in one environment.
    public func query(model: String, version: String, environment: String) -> String {
        query.replacingOccurrences(of: "{{version}}", with: version)
            .replacingOccurrences(of: "{{model.version}}", with: version)
            .replacingOccurrences(of: "{{model.name}}", with: model)
            .replacingOccurrences(of: "{{environment}}", with: environment)
    }
}
