import FoundationEssentials
public import SluiceCore
public import SluiceStore

/// The pictures of a run: each declared plot drawn over the same plot of production's run (the
/// run that made the version production held when this run was gated), and each gated metric
/// over every candidate of the model up to this run. The web UI, merge-request comments and
/// `sluice report --charts` all draw them here.
public enum RunCharts {
    public struct Chart: Sendable {
        public var name: String
        /// A file name for it (`<stage>-<plot>.svg`, `metric-<name>.svg`).
        public var file: String
        public var svg: String
        /// What it shows in a sentence (the alt text of an image).
        public var caption: String
    }

    public static func charts(run runID: Int64, store: RunStore) throws -> [Chart] {
        let reports = try store.reports(of: runID)
        let gate = try ReportRecord.gateReport(in: reports)
        let baseline = try gate.flatMap { try baselineRun(of: $0, store: store) }
        let baselineReports = try baseline.map { try store.reports(of: $0) } ?? []
        var charts: [Chart] = []
        for record in reports where PlotData.isReportKind(record.kind) {
            let plot = try JSONDecoder().decode(PlotData.self, from: Data(record.content.utf8))
            guard !plot.points.isEmpty else { continue }
            let before = try baselineReports.first { $0.kind == record.kind && $0.stage == record.stage }
                .map { try JSONDecoder().decode(PlotData.self, from: Data($0.content.utf8)) }
            charts.append(Chart(name: plot.name, file: PlotChart.fileName(stage: plot.stage, plot: plot.name),
                                svg: PlotChart.svg(plot, candidateName: "run \(runID)", baseline: before, baselineName: "production (run \(baseline ?? 0))"),
                                caption: "\(plot.name) of stage \(plot.stage), run \(runID)" + (before == nil ? "" : " over production's run \(baseline!)")))
        }
        if let gate {
            let history = try gateHistory(model: gate.model, store: store, upTo: runID)
            for chart in MetricHistoryChart.charts(history) {
                charts.append(Chart(name: chart.name, file: PlotChart.fileName(stage: "metric", plot: chart.name), svg: chart.svg,
                                    caption: "\(chart.name) of every candidate of \(gate.model) up to run \(runID), with production and the policy's bounds"))
            }
        }
        return charts
    }

    /// The gated candidates of `model` (promoted or rejected), oldest first; with `upTo`, those
    /// up to that run, which is included whatever its verdict (a merge request's report).
    public static func gateHistory(model: String, store: RunStore, upTo run: Int64? = nil) throws -> [GateReport] {
        try store.reports(kind: ReportRecord.gateKind).compactMap { r -> GateReport? in
            if let run, r.runId > run { return nil }
            let report = try JSONDecoder().decode(GateReport.self, from: Data(r.content.utf8))
            return report.model == model && (report.decision == .promote || report.decision == .reject || report.run == run) ? report : nil
        }.sorted { $0.run < $1.run }
    }

    /// The run of the version production held when `report` was gated (nil: none yet).
    static func baselineRun(of report: GateReport, store: RunStore) throws -> Int64? {
        guard let production = report.production else { return nil }
        return try store.promotions(model: report.model).last { $0.version == production.version }?.runId
    }
}
