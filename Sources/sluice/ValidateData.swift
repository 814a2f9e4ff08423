import ArgumentParser
import FoundationEssentials
import SluiceController
import SluiceCore

struct ValidateData: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate-data",
        abstract: "Check a CSV or JSON-lines file against a data schema, and measure drift against a reference.",
        discussion: """
        The same checks as a `uses: validate-data` stage, on files outside a run. \
        Exit 0 when the data passes (warnings allowed), 1 when a check or drift test fails, \
        2 when a file cannot be read or the schema is invalid.
        """
    )

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The data file (.csv, .jsonl).")
    var data: String

    @Option(help: "The data schema (YAML).")
    var schema: String

    @Option(help: "Reference data to measure drift against (e.g. the data the production model was trained on).")
    var reference: String?

    @Option(help: "With --reference: write each column's reference and current distributions here as SVG, the most drifted first.")
    var charts: String?

    func run() async throws {
        let report: SluiceCore.ValidationReport
        do {
            report = try DataSetValidation.run(.init(dataPath: data, dataName: data, schemaPath: schema, schemaName: schema,
                                                     referencePath: reference, referenceName: reference))
            if let charts {
                let written = try DataSetValidation.writeCharts(report, to: charts)
                Output.err("wrote \(Output.count(written.count, "chart", "charts")) to \(charts)")
            }
        } catch {
            throw Output.fail(error)
        }
        switch global.format {
        case .json:
            try Output.json(report)
        case .text:
            for check in report.checks where check.verdict != .pass {
                let lines = check.examples.map { "\($0.line)" + ($0.value.map { " (\($0))" } ?? "") }
                Output.out("\(check.verdict.rawValue): \(check.column.map { "\($0): " } ?? "")\(check.check): \(check.message)"
                           + (lines.isEmpty ? "" : "; lines \(lines.joined(separator: ", "))"))
            }
            if !report.drift.isEmpty {
                Output.out("drift vs \(report.reference ?? "reference"):")
                for d in report.drift {
                    let p = d.pValue.map { ", p=\(Self.short($0))" } ?? ""
                    Output.out("  \(RunSummary.pad(d.column, 16))\(RunSummary.pad(d.test, 6))\(RunSummary.pad(Self.short(d.statistic) + p, 34))\(d.verdict.rawValue)")
                }
            }
            for note in report.notes { Output.out("note: \(note)") }
            let failed = report.checks.filter { $0.verdict == .fail }.count
            Output.out("\(data): \(report.rows) rows, \(report.checks.count - failed)/\(report.checks.count) checks passed, \(report.drift.count) drift tests: \(report.verdict.rawValue)")
        }
        if report.verdict == .fail { throw ExitCode(1) }
    }

    static func short(_ x: Double) -> String { NumberText.short(x) }
}
