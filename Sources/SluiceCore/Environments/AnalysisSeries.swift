/// What an environment's analysis measured, interval by interval, kept with the version's run
/// (report kind `analysis:<check>`, stage `environment:<name>`) so a chart can show each
/// measurement against the bounds that judged it.
public struct AnalysisSeries: Codable, Sendable, Hashable {
    public var check: String
    public var environment: String
    public var query: String
    public var min: Double?
    public var max: Double?
    /// Per measurement: the largest value of its series (the one a `max` bound judges; the
    /// smallest with only a `min`); nil when there was no data or the query failed.
    public var values: [Double?]
    public var verdict: CheckVerdict

    public init(check: String, environment: String, query: String, analysis: Analysis, measurements: [AnalysisJudge.Measurement], verdict: CheckVerdict) {
        self.check = check
        self.environment = environment
        self.query = query
        min = analysis.min
        max = analysis.max
        values = measurements.map { m in
            let finite = m.values.filter(\.isFinite)
            guard m.error == nil, !finite.isEmpty else { return nil }
            return analysis.max == nil && analysis.min != nil ? finite.min() : finite.max()
        }
        self.verdict = verdict
    }

    public static func reportKind(check: String) -> String { "analysis:" + check }
    public static func isReportKind(_ kind: String) -> Bool { kind.hasPrefix("analysis:") }
    public static func stage(environment: String) -> String { "environment:" + environment }

    /// The measurements over their interval number, with the bounds as rules.
    public func svg() -> String {
        let points = values.enumerated().compactMap { i, v in
            v.map { LineChart.Point(x: Double(i + 1), y: $0, label: "measurement \(i + 1)",
                                    marker: (min.map { $0 > v! } ?? false) || (max.map { v! > $0 } ?? false) ? .cross : .dot) }
        }
        var chart = LineChart(title: "\(check) in \(environment): \(verdict.rawValue)", xLabel: "measurement", yLabel: check,
                              series: [LineChart.Series(name: query.count > 60 ? String(query.prefix(57)) + "…" : query, points: points)])
        chart.rules = (min.map { [LineChart.Rule(value: $0, label: "min")] } ?? []) + (max.map { [LineChart.Rule(value: $0, label: "max")] } ?? [])
        chart.markerMeaning = [.dot: "within bounds", .cross: "outside"]
        return chart.svg()
    }
}
