import ArgumentParser
import FoundationEssentials
import SluiceCore
import SluiceController

struct Report: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Print a run's gate report (Markdown, or JSON with --format json).",
        discussion: "RUN is a run id from `sluice runs`, or `last`. Exit 0 when the gate passed, 1 when it failed, 2 when the run has no gate report."
    )

    @OptionGroup var global: GlobalOptions

    @Argument(help: "Run id, or 'last'.")
    var run: String

    func run() async throws {
        let report: GateReport
        do {
            let history = try RunHistory(stateDirectory: global.stateDirectory)
            guard let record = try history.find(run, repository: global.givenRepositoryKey) else {
                throw LoadError(message: "no run '\(run)' in \(global.stateDirectory); see `sluice runs`")
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
