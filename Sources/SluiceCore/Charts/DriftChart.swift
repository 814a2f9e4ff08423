/// One column's reference and current distributions side by side (shares per bin: the
/// reference's quantile bins for numbers, categories for text), titled with the statistic and
/// its thresholds: what a PSI number means, as a picture.
public enum DriftChart {
    public static func svg(_ drift: ValidationReport.Drift) -> String? {
        guard let d = drift.distribution, !d.bins.isEmpty else { return nil }
        let (refTotal, curTotal) = (max(d.reference.reduce(0, +), 1), max(d.current.reduce(0, +), 1))
        func shares(_ counts: [Int], _ total: Int) -> [String: Double] {
            Dictionary(zip(d.bins, counts).map { ($0, (Double($1) / Double(total) * 1000).rounded() / 10) }, uniquingKeysWith: { a, _ in a })
        }
        return BarChart(title: title(drift), xLabel: drift.column, yLabel: "% of rows", categories: d.bins, series: [
            BarChart.Series(name: "reference (\(drift.referenceCount) rows)", values: shares(d.reference, refTotal)),
            BarChart.Series(name: "current (\(drift.currentCount) rows)", values: shares(d.current, curTotal)),
        ]).svg()
    }

    public static func title(_ drift: ValidationReport.Drift) -> String {
        "\(drift.column): PSI \(NumberText.short(drift.statistic)), \(drift.verdict.rawValue) (warn above \(NumberText.short(drift.warn)), fail above \(NumberText.short(drift.fail)))"
    }
}
