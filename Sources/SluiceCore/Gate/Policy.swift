/// Promotion rules (`policies/*.yaml`), built by `PolicyDecoder`. Semantics are written
/// down in docs/content/reference/policy.md and pinned by tests.
public struct Policy: Hashable, Sendable {
    public var file: String
    public var rules: [Rule]
    /// Metrics that must be present even without a rule on them.
    public var required: [String]

    public init(file: String, rules: [Rule], required: [String] = []) {
        self.file = file
        self.rules = rules
        self.required = required
    }

    public enum Direction: String, Hashable, Sendable, Codable, CaseIterable {
        case higher, lower
    }

    /// A change amount: a number is absolute; `"N%"` is relative to |production|.
    public enum Amount: Hashable, Sendable, CustomStringConvertible {
        case absolute(Double)
        case relative(Double)  // a fraction: 2% = 0.02

        public var description: String {
            switch self {
            case .absolute(let v): return Self.format(v)
            case .relative(let f): return Self.format(f * 100) + "%"
            }
        }

        static func format(_ v: Double) -> String {
            MetricRange.text(v)
        }

        /// The amount in the metric's units, for a production value of `production`.
        public func size(relativeTo production: Double) -> Double {
            switch self {
            case .absolute(let a): return a
            case .relative(let r): return r * abs(production)
            }
        }
    }

    /// How a candidate must compare with production. `tolerance`: it may be worse by at
    /// most this. `improvement`: it must be better by at least this. Each may hold an
    /// absolute and a relative amount; every amount given must hold.
    public struct ChangeBound: Hashable, Sendable {
        public enum Kind: String, Hashable, Sendable { case tolerance, improvement }
        public var kind: Kind
        public var amounts: [Amount]
    }

    public enum Slices: Hashable, Sendable {
        case none
        case all
        case named([String])
    }

    public struct Rule: Hashable, Sendable {
        public var metric: String
        public var direction: Direction
        public var min: Double?
        public var max: Double?
        public var vsProduction: ChangeBound?
        public var slices: Slices
        public var location: SourceLocation

        public init(metric: String, direction: Direction, min: Double? = nil, max: Double? = nil,
                    vsProduction: ChangeBound? = nil, slices: Slices = .none, location: SourceLocation) {
            self.metric = metric
            self.direction = direction
            self.min = min
            self.max = max
            self.vsProduction = vsProduction
            self.slices = slices
            self.location = location
        }
    }
}
