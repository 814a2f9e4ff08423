/// The result of a `validate-data` stage: schema checks and drift, per column, as the
/// gate report reads them (also written as JSON next to the stage's log).
public struct ValidationReport: Hashable, Sendable, Codable {
    public enum Verdict: String, Hashable, Sendable, Codable, Comparable {
        case pass, warn, fail
        public static func < (a: Verdict, b: Verdict) -> Bool { a.rank < b.rank }
        private var rank: Int { self == .pass ? 0 : self == .warn ? 1 : 2 }
    }

    /// A value that broke a check, with the physical line it is on.
    public struct Example: Hashable, Sendable, Codable {
        public var line: Int
        public var value: String?
    }

    public struct Check: Hashable, Sendable, Codable {
        /// nil for checks on the whole file (rows, syntax, header).
        public var column: String?
        public var check: String
        public var verdict: Verdict
        public var failures: Int
        public var message: String
        public var examples: [Example]
    }

    public struct Drift: Hashable, Sendable, Codable {
        public var column: String
        /// `psi`, `ks` or `chi2`.
        public var test: String
        public var statistic: Double
        public var pValue: Double?
        /// Which value the thresholds apply to: `statistic` or `p-value`.
        public var thresholdOn: String
        public var warn: Double
        public var fail: Double
        public var verdict: Verdict
        /// How it was computed, e.g. `exact` or `grid of 4096 bins (n > exact-limit)`.
        public var method: String
        public var referenceCount: Int
        public var currentCount: Int
        /// The two distributions the PSI compared, bin by bin (PSI rows only), for a picture.
        public var distribution: Distribution?
    }

    /// Reference and current counts per bin (numbers: bins cut at the reference's quantiles;
    /// categories: the most frequent ones, the rest as `other`).
    public struct Distribution: Hashable, Sendable, Codable {
        public var bins: [String]
        public var reference: [Int]
        public var current: [Int]

        /// The most bins kept (categories beyond it are summed as `other`).
        public static let binLimit = 30

        public init(bins: [String], reference: [Int], current: [Int]) {
            if bins.count > Self.binLimit {
                let order = bins.indices.sorted { reference[$0] + current[$0] > reference[$1] + current[$1] }
                let kept = Array(order.prefix(Self.binLimit - 1)).sorted()
                let rest = order.dropFirst(Self.binLimit - 1)
                self.bins = kept.map { bins[$0] } + ["other"]
                self.reference = kept.map { reference[$0] } + [rest.reduce(0) { $0 + reference[$1] }]
                self.current = kept.map { current[$0] } + [rest.reduce(0) { $0 + current[$1] }]
            } else {
                self.bins = bins
                self.reference = reference
                self.current = current
            }
        }

        /// Names for the bins between `edges`: `≤ a`, `a–b`, …, `> z`.
        public static func labels(edges: [Double]) -> [String] {
            guard let first = edges.first, let last = edges.last else { return ["all"] }
            return ["≤ \(NumberText.short(first))"] + zip(edges, edges.dropFirst()).map { "\(NumberText.short($0))–\(NumberText.short($1))" }
                + ["> \(NumberText.short(last))"]
        }
    }

    public var data: String
    public var reference: String?
    public var rows: Int
    public var verdict: Verdict
    public var checks: [Check]
    public var drift: [Drift]
    public var notes: [String]

    public init(data: String, reference: String?, rows: Int, verdict: Verdict, checks: [Check], drift: [Drift], notes: [String]) {
        self.data = data
        self.reference = reference
        self.rows = rows
        self.verdict = verdict
        self.checks = checks
        self.drift = drift
        self.notes = notes
    }

    public var failedChecks: [Check] { checks.filter { $0.verdict != .pass } }
}
