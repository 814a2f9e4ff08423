/// What a comparison measured: both versions' samples, window after window, and the judgement,
/// kept with the version's run (report kind `comparison:<check>`, stage `environment:<name>`)
/// for the step log's numbers to be checked and drawn.
public struct ComparisonSeries: Codable, Sendable, Hashable {
    public var check: String
    public var environment: String
    /// The query as asked for the version under test.
    public var query: String
    public var version: String
    public var baseline: String
    /// `stable` or `production`.
    public var baselineKind: String
    public var direction: String
    public var samples: [Double]
    public var baselineSamples: [Double]
    public var judgement: ComparisonJudge.Judgement

    public init(check: String, environment: String, query: String, comparison: Comparison, version: String, baseline: String,
                samples: [Double], baselineSamples: [Double], judgement: ComparisonJudge.Judgement) {
        self.check = check
        self.environment = environment
        self.query = query
        self.version = version
        self.baseline = baseline
        baselineKind = comparison.baseline.rawValue
        direction = comparison.direction.rawValue
        // Only finite numbers are judged, and only finite numbers encode as JSON.
        self.samples = samples.filter(\.isFinite)
        self.baselineSamples = baselineSamples.filter(\.isFinite)
        self.judgement = judgement
    }

    public static func reportKind(check: String) -> String { "comparison:" + check }
    public static func isReportKind(_ kind: String) -> Bool { kind.hasPrefix("comparison:") }

    /// The judgement in words, with the numbers it rests on.
    public var summary: String {
        let j = judgement
        func side(_ label: String, _ count: Int, _ mean: Double?) -> String {
            "\(label): \(count) samples" + (mean.map { ", mean \(AnalysisJudge.formatted($0))" } ?? "")
        }
        return "\(query) (\(direction) is better): " + side("version \(version)", j.samples, j.mean) + " vs "
            + side("\(baselineKind) version \(baseline)", j.baselineSamples, j.baselineMean) + "; " + j.reason
    }

    /// Both versions' samples in the order they were measured, with each one's mean as a rule.
    public func svg() -> String {
        func line(_ name: String, _ values: [Double]) -> LineChart.Series {
            LineChart.Series(name: name, points: values.enumerated().map { LineChart.Point(x: Double($0 + 1), y: $1, label: "\(name), sample \($0 + 1)") })
        }
        let p = judgement.p.map { ", p = " + ComparisonJudge.scientific($0) } ?? ""
        var chart = LineChart(title: "\(check) in \(environment): version \(version) vs \(baselineKind) \(baseline), \(judgement.verdict.rawValue)\(p)",
                              xLabel: "sample", yLabel: check,
                              series: [line("version \(version)", samples), line("\(baselineKind) version \(baseline)", baselineSamples)])
        chart.rules = (judgement.mean.map { [LineChart.Rule(value: $0, label: "mean of \(version)")] } ?? [])
            + (judgement.baselineMean.map { [LineChart.Rule(value: $0, label: "mean of \(baseline)")] } ?? [])
        return chart.svg()
    }
}
