/// The values the gate compares must be finite and within ±1e15: beyond that a Double no
/// longer holds the precision tolerances need, and such a value is not a metric but a bug or an
/// attack. The gate then cannot be evaluated (and fails closed) instead of guessing or trapping.
public enum MetricRange {
    public static let maximumMagnitude = 1e15

    public struct OutOfRange: Error, Sendable, CustomStringConvertible {
        public var metric: String
        public var slice: String?
        public var value: Double
        /// `candidate` or `production`.
        public var side: String
        /// Where the value is written: `metrics.json:1:14` for a file at hand, `metrics.json of
        /// stage evaluate` for one a run stored.
        public var source: String?

        public var description: String {
            (source.map { "\($0): " } ?? "") + "\(metric)\(slice.map { " [\($0)]" } ?? "") of the \(side) is \(value), outside the range Sluice compares (±1e15)"
        }
    }

    public static func contains(_ v: Double) -> Bool { v.isNaN || abs(v) <= maximumMagnitude }

    /// Checks every value the policy reads, on both sides (NaN passes: the gate fails it by rule).
    public static func check(policy: Policy, candidate: MetricSet, production: MetricSet?) throws(OutOfRange) {
        let names = Set(policy.rules.map(\.metric) + policy.required)
        for (side, set) in [("candidate", candidate), ("production", production)] {
            guard let set else { continue }
            for name in names.sorted() {
                if let v = set.values[name], !contains(v) { throw OutOfRange(metric: name, slice: nil, value: v, side: side) }
                for (slice, values) in set.slices.sorted(by: { $0.key < $1.key }) {
                    if let v = values[name], !contains(v) { throw OutOfRange(metric: name, slice: slice, value: v, side: side) }
                }
            }
        }
    }

    /// `3` for 3.0, else the shortest text of the value; never traps (huge and non-finite values print as they are).
    public static func text(_ v: Double) -> String {
        v.isFinite && v == v.rounded() && abs(v) < maximumMagnitude ? String(Int64(v)) : String(v)
    }
}
