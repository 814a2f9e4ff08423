/// Judges a `Comparison` once its windows are in: the version under test against the baseline.
public enum ComparisonJudge {
    /// What the judgement rests on, kept in the step log, the run's report and its chart.
    public struct Judgement: Codable, Sendable, Hashable {
        public var verdict: CheckVerdict
        public var samples: Int
        public var baselineSamples: Int
        public var mean: Double?
        public var baselineMean: Double?
        /// How much worse the mean is, as a fraction of the baseline's (negative: better); nil when
        /// the baseline's mean is 0 and the version's is not (no fraction of nothing).
        public var relativeChange: Double?
        /// The Mann–Whitney U of the version's samples, its z and one-sided p (the version worse).
        public var u: Double?
        public var z: Double?
        public var p: Double?
        /// Why, in one sentence.
        public var reason: String

        /// The numbers in a few words, for the log of a step it let through: `mean +3.2 %, p = 0.41`.
        public var brief: String {
            let parts = [relativeChange.map { "mean \(ComparisonJudge.percent($0))" }, p.map { "p = \(ComparisonJudge.scientific($0))" }]
            return parts.compactMap { $0 }.joined(separator: ", ")
        }
    }

    public static func judge(_ samples: [Double], baseline: [Double], _ c: Comparison) -> Judgement {
        let (x, y) = (samples.filter(\.isFinite), baseline.filter(\.isFinite))
        var j = Judgement(verdict: .inconclusive, samples: x.count, baselineSamples: y.count, reason: "")
        guard x.count >= c.minSamples, y.count >= c.minSamples else {
            j.reason = "too few samples to compare (\(x.count) and \(y.count); min-samples is \(c.minSamples))"
            return j
        }
        let (mean, baselineMean) = (x.reduce(0, +) / Double(x.count), y.reduce(0, +) / Double(y.count))
        (j.mean, j.baselineMean) = (mean, baselineMean)
        let towardWorse = c.direction == .lower ? mean - baselineMean : baselineMean - mean
        j.relativeChange = baselineMean != 0 ? towardWorse / abs(baselineMean) : towardWorse == 0 ? 0 : nil
        var findings: [(worse: Bool, said: String)] = []
        if let bound = c.maxRelativeChange {
            let change = j.relativeChange
            let worse = change.map { $0 > bound } ?? (towardWorse > 0)
            let amount = change.map { percent($0) } ?? "worse than a baseline mean of 0"
            findings.append((worse, "mean \(amount) \(worse ? ">" : "≤") \(percent(bound))"))
        }
        if let confidence = c.confidence,
           let t = MannWhitney.test(x, y, alternative: c.direction == .lower ? .greater : .less) {
            (j.u, j.z, j.p) = (t.u, t.z, t.p)
            let alpha = 1 - confidence
            let worse = t.p < alpha
            findings.append((worse, "Mann–Whitney U \(AnalysisJudge.formatted(t.u)), p = \(scientific(t.p)) \(worse ? "<" : "≥") \(AnalysisJudge.formatted(alpha))"))
        }
        // With both a test and a bound, worse means significantly worse and by more than the bound.
        let worse = !findings.isEmpty && findings.allSatisfy(\.worse)
        j.verdict = worse ? .failed : .passed
        j.reason = findings.map(\.said).joined(separator: "; ") + (worse ? ": worse" : ": not worse")
        return j
    }

    static func percent(_ fraction: Double) -> String {
        (fraction >= 0 ? "+" : "") + AnalysisJudge.formatted((fraction * 1000).rounded() / 10) + " %"
    }

    /// A p-value readable at any size: 0.0312, 2.1e-07.
    static func scientific(_ p: Double) -> String {
        guard p.isFinite, p != 0, p < 0.0001 else { return AnalysisJudge.formatted((p * 10_000).rounded() / 10_000) }
        var exponent = 0
        var mantissa = p
        while mantissa < 1 { mantissa *= 10; exponent -= 1 }
        return AnalysisJudge.formatted((mantissa * 10).rounded() / 10) + "e\(exponent)"
    }
}
