/// How a check of an environment ended.
public enum CheckVerdict: String, Sendable, Hashable, Codable {
    case passed, failed
    /// No data to judge by (or Prometheus did not answer): never taken as a pass.
    case inconclusive
}

/// Judges the measurements of an `Analysis` as Argo Rollouts judges an AnalysisRun: a
/// measurement whose value (every series) lies within `[min, max]` passes, one outside fails,
/// one without data or with a query error is inconclusive. More than `failureLimit` failures
/// fail the analysis (at once: no need to measure on); any inconclusive measurement leaves it
/// inconclusive; otherwise it passes once `count` measurements are in.
public enum AnalysisJudge {
    public struct Measurement: Sendable, Hashable {
        /// One value per series; empty: no data.
        public var values: [Double]
        public var error: String?
        public init(values: [Double], error: String? = nil) {
            self.values = values
            self.error = error
        }
    }

    public static func verdict(of m: Measurement, _ analysis: Analysis) -> CheckVerdict {
        if m.error != nil || m.values.isEmpty || m.values.contains(where: { !$0.isFinite }) { return .inconclusive }
        let inside = m.values.allSatisfy { v in (analysis.min.map { v >= $0 } ?? true) && (analysis.max.map { v <= $0 } ?? true) }
        return inside ? .passed : .failed
    }

    /// The analysis's verdict so far; nil while it must measure on.
    public static func decide(_ measurements: [Measurement], _ analysis: Analysis) -> CheckVerdict? {
        let verdicts = measurements.map { verdict(of: $0, analysis) }
        if verdicts.filter({ $0 == .failed }).count > analysis.failureLimit { return .failed }
        guard measurements.count >= analysis.count else { return nil }
        return verdicts.contains(.inconclusive) ? .inconclusive : .passed
    }

    /// The measured values in words, for reports: `0.002, 0.031 (> max 0.01), no data`.
    public static func describe(_ measurements: [Measurement], _ analysis: Analysis) -> String {
        measurements.map { m in
            if let error = m.error { return "error (\(error))" }
            if m.values.isEmpty { return "no data" }
            let text = m.values.map { formatted($0) }.joined(separator: "/")
            switch verdict(of: m, analysis) {
            case .failed:
                if let max = analysis.max, m.values.contains(where: { $0 > max }) { return "\(text) (> max \(formatted(max)))" }
                return "\(text) (< min \(formatted(analysis.min ?? 0)))"
            case .inconclusive: return "\(text) (not a number)"
            case .passed: return text
            }
        }.joined(separator: ", ")
    }

    static func formatted(_ v: Double) -> String {
        guard v.isFinite else { return "\(v)" }
        let rounded = (v * 1e6).rounded() / 1e6
        return rounded == rounded.rounded() && abs(rounded) < 1e15 ? String(Int(rounded)) : String(rounded)
    }
}
