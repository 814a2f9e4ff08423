import FoundationEssentials
public import SluiceCore
public import SluiceStore

/// The pictures of a run: each declared plot drawn over the same plot of production's run (the
/// run that made the version production held when this run was gated), each drifted column's
/// distributions, each environment analysis of the run's version against its bounds, and each
/// gated metric over every candidate of the model up to this run. The web UI, merge-request
/// comments and `sluice report --charts` all draw them here.
public enum RunCharts {
    public struct Chart: Sendable {
        public var name: String
        /// A file name for it (`<stage>-<plot>.svg`, `metric-<name>.svg`).
        public var file: String
        /// Draws it: a chart is drawn when it is shown, not when the run's charts are listed (a
        /// merge-request comment needs their names, the image route one of them).
        let draw: @Sendable () -> String
        public var svg: String { draw() }
        /// What it shows in a sentence (the alt text of an image).
        public var caption: String
        public var kind: Kind

        public enum Kind: Sendable, Equatable {
            /// A stage's declared plot.
            case plot
            /// A gated metric over the candidates (`accuracy`, `f1 [class=a]`).
            case metric(String)
            /// A column's distributions against the reference data, with the drift verdict.
            case drift(ValidationReport.Verdict)
            /// An environment check's measurements against its bounds, or against a baseline version's.
            case analysis
        }
    }

    /// The most drift charts a run shows (the most drifted columns).
    static let driftLimit = 12

    public static func charts(run runID: Int64, store: RunStore) throws -> [Chart] {
        let reports = try store.reports(of: runID)
        let gate = try ReportRecord.gateReport(in: reports)
        let baseline = try gate.flatMap { try baselineRun(of: $0, store: store) }
        let baselineReports = try baseline.map { try store.reports(of: $0) } ?? []
        var charts: [Chart] = []
        let plots = try reports.filter { PlotData.isReportKind($0.kind) }
            .map { ($0, try JSONDecoder().decode(PlotData.self, from: Data($0.content.utf8))) }
            .sorted { ($0.1.stage, $0.1.position) < ($1.1.stage, $1.1.position) }
        for (record, plot) in plots {
            guard !plot.points.isEmpty else { continue }
            let before = try baselineReports.first { $0.kind == record.kind && $0.stage == record.stage }
                .map { try JSONDecoder().decode(PlotData.self, from: Data($0.content.utf8)) }
            charts.append(Chart(name: plot.name, file: PlotChart.fileName(stage: plot.stage, plot: plot.name),
                                draw: { PlotChart.svg(plot, candidateName: "run \(runID)", baseline: before, baselineName: "production (run \(baseline ?? 0))") },
                                caption: "\(plot.name) of stage \(plot.stage), run \(runID)" + (before == nil ? "" : " over production's run \(baseline!)")
                                    + (plot.warnings.first.map { "; \($0)" + (plot.warnings.count > 1 ? " (and \(plot.warnings.count - 1) more)" : "") } ?? ""),
                                kind: .plot))
        }
        charts += try drift(reports)
        for record in reports where AnalysisSeries.isReportKind(record.kind) {
            let series = try JSONDecoder().decode(AnalysisSeries.self, from: Data(record.content.utf8))
            charts.append(Chart(name: "\(series.check) in \(series.environment)", file: PlotChart.fileName(stage: record.stage, plot: series.check),
                                draw: { series.svg() }, caption: "check \(series.check) of this run's version in \(series.environment): \(series.query), "
                                    + "\(series.values.count) measurement(s), \(series.verdict.rawValue)", kind: .analysis))
        }
        for record in reports where ComparisonSeries.isReportKind(record.kind) {
            let series = try JSONDecoder().decode(ComparisonSeries.self, from: Data(record.content.utf8))
            charts.append(Chart(name: "\(series.check) in \(series.environment)", file: PlotChart.fileName(stage: record.stage, plot: series.check),
                                draw: { series.svg() }, caption: "check \(series.check) of version \(series.version) in \(series.environment) against "
                                    + "\(series.baselineKind) version \(series.baseline): \(series.judgement.reason)", kind: .analysis))
        }
        if let gate {
            let history = try gateHistory(model: gate.model, repository: gate.repository, store: store, upTo: runID)
            for chart in MetricHistoryChart.charts(history) {
                charts.append(Chart(name: chart.name, file: PlotChart.fileName(stage: "metric", plot: chart.name), draw: { chart.svg },
                                    caption: "\(chart.name) of every candidate of \(gate.model) up to run \(runID), with production and the policy's bounds",
                                    kind: .metric(chart.name)))
            }
        }
        return charts
    }

    /// Writes `charts` into `folder` (made when missing) as their files; returns the file names.
    public static func write(_ charts: [Chart], to folder: String) throws -> [String] {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        return try charts.map { chart in
            try Data(chart.svg.utf8).write(to: URL(fileURLWithPath: folder + "/" + chart.file))
            return chart.file
        }
    }

    /// The gated candidates of `model` (promoted or rejected), oldest first; of one repository
    /// when given (a run's history), else of every repository (the model page); with `upTo`,
    /// those up to that run, which is included whatever its verdict (a merge request's report).
    public static func gateHistory(model: String, repository: String? = nil, store: RunStore, upTo run: Int64? = nil) throws -> [GateReport] {
        let records = try repository.map { try store.reports(kind: ReportRecord.gateKind, repository: $0) } ?? store.reports(kind: ReportRecord.gateKind)
        return try records.compactMap { r -> GateReport? in
            if let run, r.runId > run { return nil }
            let report = try JSONDecoder().decode(GateReport.self, from: Data(r.content.utf8))
            return report.model == model && (report.decision == .promote || report.decision == .reject || report.run == run) ? report : nil
        }.sorted { $0.run < $1.run }
    }

    /// Each validate-data stage's columns as distributions, those over a threshold first.
    static func drift(_ reports: [ReportRecord]) throws -> [Chart] {
        try drift(reports.filter { $0.kind == "validation" }.map { record in
            (record.stage, try JSONDecoder().decode(ValidationReport.self, from: Data(record.content.utf8)))
        })
    }

    /// The drift charts of validation reports (by the stage that made each; `sluice validate-data`
    /// names its data file), the most drifted columns first.
    public static func drift(_ reports: [(stage: String, report: ValidationReport)]) -> [Chart] {
        let severity: [ValidationReport.Verdict: Int] = [.fail: 0, .warn: 1, .pass: 2]
        let rows = reports.flatMap { r in r.report.drift.filter { !($0.distribution?.bins.isEmpty ?? true) }.map { (stage: r.stage, drift: $0) } }
        return rows.sorted { (severity[$0.drift.verdict] ?? 3, -$0.drift.statistic) < (severity[$1.drift.verdict] ?? 3, -$1.drift.statistic) }
            .prefix(driftLimit).map { row in
                Chart(name: "drift of \(row.drift.column)", file: PlotChart.fileName(stage: "drift-" + row.stage, plot: row.drift.column),
                      draw: { DriftChart.svg(row.drift) ?? "" },
                      caption: "\(row.drift.column) against the reference data (stage \(row.stage)): \(DriftChart.title(row.drift))",
                      kind: .drift(row.drift.verdict))
            }
    }

    /// The two or three pictures that tell most, for a merge-request comment: the chart of the
    /// first rule that failed (else of the first rule), the most drifted column when it is over
    /// a threshold, then declared plots.
    public static func telling(_ charts: [Chart], report: GateReport?) -> [Chart] {
        let failing = report?.decidingRows().first { !$0.passed }.map(MetricHistoryChart.key)
        func metric(_ c: Chart) -> String? { if case .metric(let m) = c.kind { return m } else { return nil } }
        let chosen = charts.first { metric($0) != nil && metric($0) == failing } ?? charts.first { metric($0) != nil }
        let drifted = charts.first { if case .drift(let v) = $0.kind { return v != .pass } else { return false } }
        let picked = (chosen.map { [$0] } ?? []) + (drifted.map { [$0] } ?? [])
        return picked + charts.filter { $0.kind == .plot }.prefix(3 - picked.count)
    }

    /// The run of the version production held when `report` was gated (nil: none yet).
    static func baselineRun(of report: GateReport, store: RunStore) throws -> Int64? {
        guard let production = report.production else { return nil }
        return try store.promotions(model: report.model).last { $0.version == production.version }?.runId
    }
}
