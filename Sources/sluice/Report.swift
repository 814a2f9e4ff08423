import ArgumentParser
import FoundationEssentials
import SluiceCore
import SluiceController

struct Report: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Print a run's gate report (Markdown, or JSON with --format json).",
        discussion: """
        RUN is a run id from `sluice runs`, or `last`. Exit 0 when the gate passed, 1 when it failed, 2 when the run has no gate report \
        (with --charts: 0 once the charts are written).
        """
    )

    @OptionGroup var global: GlobalOptions

    @Argument(help: "Run id, or 'last'.")
    var run: String

    @Option(help: "Also write the run's charts here as SVG: its declared plots over production's, each gated metric over every candidate.")
    var charts: String?

    func run() async throws {
        let report: GateReport
        do {
            let history = try RunHistory(stateDirectory: global.stateDirectory, environment: ProcessInfo.processInfo.environment)
            guard let record = try history.find(run, repository: global.givenRepositoryKey) else {
                throw LoadError(message: "no run '\(run)' in \(global.stateDirectory); see `sluice runs`")
            }
            if let charts {
                let written = try history.writeCharts(of: record.id!, to: charts)
                Output.err("wrote \(Output.count(written.count, "chart", "charts")) to \(charts)" + (written.isEmpty ? "" : ": " + written.joined(separator: ", ")))
                if try history.gateReport(of: record.id!) == nil { return }
            }
            guard let stored = try history.gateReport(of: record.id!) else {
                throw LoadError(message: "run \(record.id!) has no gate report (it \(record.status == .succeeded ? "declares no 'gate'" : "did not succeed: \(record.message ?? record.status.rawValue)"))")
            }
            report = stored
        } catch {
            throw Output.fail(error)
        }
        try Output.gateReport(report, format: global.format)
    }
}
