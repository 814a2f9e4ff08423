/// The promotion gate: candidate metrics against production's under a policy, plus the
/// run's data checks. Pure: the same inputs always give the same result.
public enum Gate {
    /// Inclusive comparisons allow this much floating-point rounding (relative), so that
    /// 0.945 vs 0.95 with a 0.005 tolerance passes as written.
    public static let rounding = 1e-12

    public struct Baseline: Hashable, Sendable {
        public var version: String
        public var metrics: MetricSet
        public init(version: String, metrics: MetricSet) {
            self.version = version
            self.metrics = metrics
        }
    }

    public static func evaluate(policy: Policy, candidate: MetricSet, production: Baseline?) -> (rows: [GateReport.MetricRow], notes: [String]) {
        var rows: [GateReport.MetricRow] = []
        var notes: [String] = []
        if production == nil, policy.rules.contains(where: { $0.vsProduction != nil }) {
            notes.append("no production model yet: only absolute bounds apply")
        }
        for rule in policy.rules {
            rows.append(row(rule, slice: nil, candidate: candidate.values, production: production?.metrics.values, notes: &notes))
            let sliceNames: [String]
            switch rule.slices {
            case .none: sliceNames = []
            case .all: sliceNames = candidate.slices.keys.sorted()
            case .named(let names): sliceNames = names
            }
            if case .all = rule.slices, sliceNames.isEmpty {
                notes.append("rule for '\(rule.metric)' applies to all slices, but the metrics file has none")
            }
            for slice in sliceNames {
                guard let values = candidate.slices[slice] else {
                    rows.append(.init(metric: rule.metric, slice: slice, candidate: nil, production: nil, delta: nil, rule: describe(rule),
                                      passed: false, reason: "slice '\(slice)' is missing from the metrics file"))
                    continue
                }
                rows.append(row(rule, slice: slice, candidate: values, production: production?.metrics.slices[slice], notes: &notes))
            }
        }
        let ruled = Set(policy.rules.map(\.metric))
        for name in policy.required where !ruled.contains(name) {
            let value = candidate.values[name]
            let ok = value.map { !$0.isNaN } ?? false
            rows.append(.init(metric: name, slice: nil, candidate: value, production: production?.metrics.values[name], delta: nil,
                              rule: "required", passed: ok, reason: value == nil ? "missing" : ok ? "present" : "NaN"))
        }
        return (rows, notes)
    }

    /// What the metrics file has instead of a missing metric: the same name nested in an object
    /// (`{"test": {"accuracy": …}}` is read as `test.accuracy`), else a near name.
    static func missingHint(_ metric: String, among names: some Collection<String>) -> String {
        let nested = names.filter { $0.hasSuffix("." + metric) }.sorted()
        if let first = nested.first {
            return "; the metrics file has '\(first)' (nested objects are read as dotted names): name that in the policy"
        }
        if let near = Suggestion.nearest(to: metric, in: names) { return "; did you mean '\(near)'?" }
        return ""
    }

    static func row(_ rule: Policy.Rule, slice: String?, candidate: [String: Double], production: [String: Double]?,
                    notes: inout [String]) -> GateReport.MetricRow {
        let text = describe(rule)
        let where_ = slice.map { " in slice '\($0)'" } ?? ""
        guard let value = candidate[rule.metric] else {
            return .init(metric: rule.metric, slice: slice, candidate: nil, production: production?[rule.metric], delta: nil,
                         rule: text, passed: false, reason: "missing\(where_)" + missingHint(rule.metric, among: candidate.keys))
        }
        let prod = production?[rule.metric]
        let delta = prod.map { value - $0 }
        func result(_ passed: Bool, _ reason: String) -> GateReport.MetricRow {
            var row = GateReport.MetricRow(metric: rule.metric, slice: slice, candidate: value, production: prod, delta: delta, rule: text,
                                           passed: passed, reason: reason)
            (row.min, row.max) = (rule.min, rule.max)
            row.productionBound = productionBound(rule, production: prod)
            return row
        }
        if value.isNaN { return result(false, "NaN") }
        // Every way the rule fails is said, not only the first (below the minimum and worse than production).
        var failures: [String] = []
        if let lo = rule.min, !atLeast(value, lo) { failures.append("below the minimum \(Policy.Amount.format(lo))") }
        if let hi = rule.max, !atLeast(hi, value) { failures.append("above the maximum \(Policy.Amount.format(hi))") }
        func bounded(_ passing: String) -> GateReport.MetricRow {
            failures.isEmpty ? result(true, passing) : result(false, failures.joined(separator: "; "))
        }
        guard let bound = rule.vsProduction else { return bounded("within bounds") }
        guard production != nil else { return bounded("within bounds; no production model to compare") }
        guard let p = prod, !p.isNaN else {
            notes.append("production has no value for '\(rule.metric)'\(where_): its change bound is not applied")
            return bounded("within bounds; production has no '\(rule.metric)'")
        }
        // How much better the candidate is (negative: worse), in the rule's direction.
        let better = rule.direction == .higher ? value - p : p - value
        var amounts = bound.amounts
        if p == 0, amounts.contains(where: { if case .relative = $0 { return true } else { return false } }) {
            amounts = amounts.filter { if case .absolute = $0 { return true } else { return false } }
            if amounts.isEmpty {
                amounts = [.absolute(0)]
                notes.append("production '\(rule.metric)'\(where_) is 0: a relative change is undefined; required at least as good as production")
            } else {
                notes.append("production '\(rule.metric)'\(where_) is 0: a relative change is undefined; the absolute change bound is used")
            }
        }
        for amount in amounts {
            let size = amount.size(relativeTo: p)
            switch bound.kind {
            case .tolerance where !atLeast(better, -size):
                failures.append("worse than production by \(format(-better)), more than the tolerance \(amount)")
            case .improvement where !atLeast(better, size):
                failures.append(better >= 0 ? "better than production by only \(format(better)), needs \(amount)"
                                            : "worse than production by \(format(-better)), needs an improvement of \(amount)")
            default: continue
            }
            break
        }
        return bounded(better > 0 ? "better than production by \(format(better))" : better == 0 ? "same as production" : "within tolerance of production")
    }

    /// The value a change bound asks of the candidate, by its first amount (nil without one).
    static func productionBound(_ rule: Policy.Rule, production p: Double?) -> Double? {
        guard let bound = rule.vsProduction, let p, p.isFinite, let amount = bound.amounts.first else { return nil }
        let size = amount.size(relativeTo: p)
        let better = bound.kind == .improvement ? size : -size
        return rule.direction == .higher ? p + better : p - better
    }

    /// a >= b, allowing for floating-point rounding of the inputs.
    static func atLeast(_ a: Double, _ b: Double) -> Bool {
        a >= b - rounding * max(1, abs(a), abs(b))
    }

    static func format(_ v: Double) -> String {
        MetricRange.text(v.isFinite ? (v * 1e6).rounded() / 1e6 : v)
    }

    /// The rule as one line for the report, e.g. `higher is better; ≥ 0.85; at most 0.5% worse than production`.
    public static func describe(_ rule: Policy.Rule) -> String {
        var parts = ["\(rule.direction.rawValue) is better"]
        if let lo = rule.min { parts.append("≥ \(Policy.Amount.format(lo))") }
        if let hi = rule.max { parts.append("≤ \(Policy.Amount.format(hi))") }
        if let b = rule.vsProduction {
            let amounts = b.amounts.map(\.description).joined(separator: " and ")
            parts.append(b.kind == .tolerance ? "at most \(amounts) worse than production" : "at least \(amounts) better than production")
        }
        return parts.joined(separator: "; ")
    }
}
