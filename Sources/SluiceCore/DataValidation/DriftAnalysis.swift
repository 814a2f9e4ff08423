/// Compares each column of the current data with the reference data: PSI for every
/// column, KS for numeric columns, chi-squared for categorical ones.
public enum DriftAnalysis {
    public static func compare(reference: DataValidator, current: DataValidator) -> [ValidationReport.Drift] {
        let settings = current.schema.drift
        var results: [ValidationReport.Drift] = []
        for (c, column) in current.schema.columns.enumerated() {
            if let ref = reference.numericSample(c), let cur = current.numericSample(c), ref.count > 0, cur.count > 0 {
                results += numeric(column.name, ref, cur, settings)
            } else if let ref = reference.categoryCounts(c), let cur = current.categoryCounts(c), ref.total > 0, cur.total > 0 {
                results += categorical(column.name, ref, cur, settings)
            }
        }
        return results
    }

    static func verdict(_ value: Double, _ t: DataSchema.Thresholds, largerIsWorse: Bool) -> ValidationReport.Verdict {
        if value.isNaN { return .fail }
        if largerIsWorse { return value > t.fail ? .fail : value > t.warn ? .warn : .pass }
        return value < t.fail ? .fail : value < t.warn ? .warn : .pass
    }

    static func numeric(_ name: String, _ ref: NumericSample, _ cur: NumericSample, _ s: DataSchema.DriftSettings) -> [ValidationReport.Drift] {
        // PSI on bins cut at the reference's quantiles.
        let psiEdges = ref.isExact ? ref.exactQuantileEdges(bins: s.bins) : thin(ref.edges ?? [], to: s.bins)
        let (refBins, curBins) = (binCounts(ref, psiEdges), binCounts(cur, psiEdges))
        let psi = DriftStatistics.psi(reference: refBins, current: curBins)

        let d: Double
        let method: String
        if ref.isExact, cur.isExact {
            d = NumericSample.exactKSStatistic(ref, cur)
            method = "exact"
        } else {
            let points = ref.isExact ? cur.gridEdges() : ref.gridEdges()
            let a = ref.cumulativeCounts(at: points).map { Double($0) / Double(ref.count) }
            let b = cur.cumulativeCounts(at: points).map { Double($0) / Double(cur.count) }
            d = DriftStatistics.ksStatistic(cdfA: a, cdfB: b)
            method = "at \(points.count) grid points (more than \(s.exactLimit) values); D within about one bin's mass"
        }
        let p = DriftStatistics.ksPValue(statistic: d, n: ref.count, m: cur.count)
        return [
            .init(column: name, test: "psi", statistic: psi, pValue: nil, thresholdOn: "statistic", warn: s.psi.warn, fail: s.psi.fail,
                  verdict: verdict(psi, s.psi, largerIsWorse: true), method: "\(psiEdges.count + 1) bins at reference quantiles",
                  referenceCount: ref.count, currentCount: cur.count,
                  distribution: .init(bins: ValidationReport.Distribution.labels(edges: psiEdges), reference: refBins, current: curBins)),
            .init(column: name, test: "ks", statistic: d, pValue: p, thresholdOn: "statistic", warn: s.ks.warn, fail: s.ks.fail,
                  verdict: verdict(d, s.ks, largerIsWorse: true), method: method + "; asymptotic p-value",
                  referenceCount: ref.count, currentCount: cur.count),
        ]
    }

    static func categorical(_ name: String, _ ref: CategoryCounts, _ cur: CategoryCounts, _ s: DataSchema.DriftSettings) -> [ValidationReport.Drift] {
        let categories = ChiSquaredInput.categories(ref, cur)
        let refCounts = categories.map { ref.count(of: $0) }
        let curCounts = categories.map { cur.count(of: $0) }
        let psi = DriftStatistics.psi(reference: refCounts, current: curCounts)
        let input = ChiSquaredInput(reference: refCounts, current: curCounts)
        let chi = DriftStatistics.chiSquared(observed: input.observed, expected: input.expected)
        let chiVerdict: ValidationReport.Verdict = categories.count < 2 ? .pass : verdict(chi.pValue, s.chiSquaredPValue, largerIsWorse: false)
        return [
            .init(column: name, test: "psi", statistic: psi, pValue: nil, thresholdOn: "statistic", warn: s.psi.warn, fail: s.psi.fail,
                  verdict: verdict(psi, s.psi, largerIsWorse: true), method: "\(categories.count) categories",
                  referenceCount: ref.total, currentCount: cur.total,
                  distribution: .init(bins: categories, reference: refCounts, current: curCounts)),
            .init(column: name, test: "chi2", statistic: chi.statistic, pValue: categories.count < 2 ? nil : chi.pValue,
                  thresholdOn: "p-value", warn: s.chiSquaredPValue.warn, fail: s.chiSquaredPValue.fail, verdict: chiVerdict,
                  method: categories.count < 2 ? "one category: no test" : "\(categories.count - 1) degrees of freedom",
                  referenceCount: ref.total, currentCount: cur.total),
        ]
    }

    /// Counts per bin: bin i holds (edges[i-1], edges[i]], the last everything above.
    static func binCounts(_ sample: NumericSample, _ edges: [Double]) -> [Int] {
        let cumulative = sample.cumulativeCounts(at: edges)
        var counts: [Int] = []
        var previous = 0
        for c in cumulative {
            counts.append(c - previous)
            previous = c
        }
        counts.append(sample.count - previous)
        return counts
    }

    /// Every k-th edge of a fine grid, to get about `bins` bins.
    static func thin(_ edges: [Double], to bins: Int) -> [Double] {
        guard edges.count >= bins else { return edges }
        let step = Double(edges.count + 1) / Double(bins)
        return (1..<bins).map { edges[min(edges.count - 1, Int((Double($0) * step).rounded()) - 1)] }
    }
}

/// The observed and expected counts for the chi-squared test: observed = current
/// counts per category; expected = the reference's proportions (each floored at
/// `DriftStatistics.proportionFloor`, then renormalised) times the current total.
/// A category the reference never saw thus counts as very unexpected, not infinite.
public struct ChiSquaredInput: Sendable {
    public var observed: [Double]
    public var expected: [Double]

    public init(reference: [Int], current: [Int]) {
        let floored = DriftStatistics.floored(reference)
        let sum = floored.reduce(0, +)
        let total = Double(current.reduce(0, +))
        observed = current.map(Double.init)
        expected = floored.map { $0 / sum * total }
    }

    /// Categories of both samples: the reference's in first-seen order, then new ones.
    static func categories(_ ref: CategoryCounts, _ cur: CategoryCounts) -> [String] {
        var names = ref.names
        let known = Set(names)
        names += cur.names.filter { !known.contains($0) }
        return names
    }
}
