import FoundationEssentials
import SluiceCore
import SluiceYAML

/// Reads the data of a stage's declared plots (`plots:`) from its workspace once it succeeded.
/// A missing, malformed or oversized file is a located warning on the stage and in the stored
/// plot, never a failed run.
enum PlotFiles {
    /// The stage name `dvc.yaml`'s plots are stored under.
    static let dvcStage = DVCPlots.file

    /// One report per declared plot (kind `plot:<file>`), and the warnings to show on the stage.
    static func reports(_ plots: [PlotSpec], stage: String, runID: Int64, workspace: String, masker: SecretMasker) -> (reports: [ReportRecord], warnings: [String]) {
        var reports: [ReportRecord] = []
        var warnings: [String] = []
        for (position, plot) in plots.enumerated() {
            var data: PlotData
            do {
                data = try read(plot, stage: stage, workspace: workspace)
            } catch {
                data = PlotData.failed(plot, stage: stage, "\(error)")
            }
            data.position = position
            // Labels of a confusion matrix come from the stage: masked like its log.
            data.points = data.points.map { $0.map(masker.mask) }
            data.warnings = data.warnings.map(masker.mask)
            warnings += data.warnings.map { "plot '\(plot.name)': \($0)" }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            do {
                reports.append(ReportRecord(runId: runID, stage: stage, kind: PlotData.reportKind(file: plot.file), path: plot.file,
                                            content: String(decoding: try encoder.encode(data), as: UTF8.self)))
            } catch {
                warnings.append("plot '\(plot.name)' could not be stored: \(error)")
            }
        }
        return (reports, warnings)
    }

    static func read(_ plot: PlotSpec, stage: String, workspace: String) throws -> PlotData {
        guard let bytes = try WorkspaceFile.read(plot.file, in: workspace, what: "plot data") else {
            return PlotData.failed(plot, stage: stage, "\(plot.file): the stage did not write it")
        }
        let lower = plot.file.lowercased()
        let table: PlotTable
        if lower.hasSuffix(".json") || lower.hasSuffix(".yaml") || lower.hasSuffix(".yml") {
            let node: Node?
            do throws(YAMLError) { node = try YAMLParser.parseDocument(bytes, file: plot.file) } catch {
                return PlotData.failed(plot, stage: stage, DiagnosticRenderer.line(error.diagnostic))
            }
            guard let node else { return PlotData.failed(plot, stage: stage, "\(plot.file) is empty") }
            table = try PlotTable.document(node, file: plot.file)
        } else {
            table = try PlotTable.delimited(bytes, file: plot.file, separator: lower.hasSuffix(".tsv") ? UInt8(ascii: "\t") : UInt8(ascii: ","))
        }
        return try PlotData.make(plot, stage: stage, table: table)
    }
}
