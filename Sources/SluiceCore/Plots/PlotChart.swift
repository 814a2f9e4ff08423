/// Draws a declared plot for the candidate over the baseline (production's run of the same
/// stage), as `dvc plots diff` does: one chart, two series or two panels.
public enum PlotChart {
    public static func svg(_ candidate: PlotData, candidateName: String, baseline: PlotData?, baselineName: String) -> String {
        let sets = [(candidateName, candidate)] + (baseline.map { [(baselineName, $0)] } ?? [])
        switch PlotSpec.Template(rawValue: candidate.template) ?? .linear {
        case .linear, .scatter:
            let joined = candidate.template == PlotSpec.Template.linear.rawValue
            var chart = LineChart(title: candidate.name, xLabel: candidate.x, yLabel: candidate.y, series: sets.map { name, data in
                LineChart.Series(name: name, points: data.points.compactMap { p in
                    guard let x = Double(p[0]), let y = Double(p[1]) else { return nil }
                    return LineChart.Point(x: x, y: y, marker: name == candidateName ? .dot : .ring)
                }, joined: joined)
            })
            let ys = sets.flatMap { $0.1.points.compactMap { Double($0[1]) } }
            chart.bounded = !ys.isEmpty && ys.allSatisfy { $0 >= 0 && $0 <= 1 }
            return chart.svg()
        case .confusion:
            let labels = Array(Set(sets.flatMap { $0.1.points.flatMap { $0 } })).sorted()
            return ConfusionChart(title: candidate.name, labels: labels, panels: sets.map { name, data in
                ConfusionChart.panel(name, pairs: data.points.map { ($0[0], $0[1]) }, labels: labels)
            }).svg()
        case .bar:
            var categories: [String] = []
            var seen = Set<String>()
            for p in sets.flatMap(\.1.points) where seen.insert(p[0]).inserted { categories.append(p[0]) }
            return BarChart(title: candidate.name, xLabel: candidate.x, yLabel: candidate.y, categories: categories, series: sets.map { name, data in
                BarChart.Series(name: name, values: Dictionary(data.points.compactMap { p in Double(p[1]).map { (p[0], $0) } }, uniquingKeysWith: { _, b in b }))
            }).svg()
        }
    }

    /// A file name for the plot's chart: its name with anything but letters, digits, `-` and `_` replaced.
    public static func fileName(stage: String, plot: String) -> String {
        let safe = (stage + "-" + plot).map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" ? $0 : "_" }
        return String(String(safe).prefix(120)) + ".svg"
    }
}
