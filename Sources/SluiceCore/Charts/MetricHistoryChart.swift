/// Each gated metric (and slice) over every candidate of a model, oldest first: promoted,
/// rejected and other candidates marked differently, production's value as a step line, and
/// the policy's bounds as rules. The question it answers: are we drifting down, and how close
/// to the bound was the one that was rejected?
public enum MetricHistoryChart {
    public struct Chart: Sendable {
        /// `accuracy` or `f1_macro [class_setosa]`.
        public var name: String
        public var svg: String
    }

    /// The most candidates one chart shows (the latest ones).
    public static let candidateLimit = 200

    public static func charts(_ reports: [GateReport]) -> [Chart] {
        let shown = Array(reports.suffix(candidateLimit))
        var keys: [String] = []
        var seen = Set<String>()
        for report in shown {
            for row in report.metrics where seen.insert(key(row)).inserted { keys.append(key(row)) }
        }
        return keys.map { name in
            var candidates: [LineChart.Point] = []
            var production: [LineChart.Point] = []
            var latest: GateReport.MetricRow?
            for (i, report) in shown.enumerated() {
                guard let row = report.metrics.first(where: { key($0) == name }) else { continue }
                latest = row
                if let v = row.candidate, v.isFinite {
                    let marker: LineChart.Marker = report.decision == .promote ? .dot : report.decision == .reject ? .cross : .ring
                    candidates.append(LineChart.Point(x: Double(i), y: v, label: "run \(report.run), \(report.decision.rawValue)", marker: marker))
                }
                if let p = row.production, p.isFinite {
                    production.append(LineChart.Point(x: Double(i), y: p, label: "production before run \(report.run)", marker: .square))
                }
            }
            var chart = LineChart(title: "\(name) per candidate", xLabel: "candidate", yLabel: name, series: [
                LineChart.Series(name: "candidates", points: candidates, joined: false),
                LineChart.Series(name: "production", points: production, joined: true, steps: true),
            ])
            chart.xNames = Dictionary(shown.enumerated().map { (i, r) in (i, "\(r.run)") }, uniquingKeysWith: { a, _ in a })
            var rules: [LineChart.Rule] = []
            if let lo = latest?.min { rules.append(LineChart.Rule(value: lo, label: "minimum")) }
            if let hi = latest?.max { rules.append(LineChart.Rule(value: hi, label: "maximum")) }
            if let b = latest?.productionBound { rules.append(LineChart.Rule(value: b, label: "needed vs production")) }
            chart.rules = rules
            let values = candidates.map(\.y) + production.map(\.y) + rules.map(\.value)
            chart.bounded = !values.isEmpty && values.allSatisfy { $0 >= 0 && $0 <= 1 }
            chart.markerMeaning = [.dot: "promoted", .cross: "rejected", .ring: "not promoted", .square: "production"]
            return Chart(name: name, svg: chart.svg())
        }
    }

    public static func key(_ row: GateReport.MetricRow) -> String { row.slice.map { "\(row.metric) [\($0)]" } ?? row.metric }
}
