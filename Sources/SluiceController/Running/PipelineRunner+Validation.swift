import FoundationEssentials
import SluiceCore
import SluiceRunner

extension PipelineRunner {
    /// The built-in `validate-data` stage: the data file against its schema, and against the
    /// production model's version of it for drift.
    func validateData(_ spec: StageSpec, workspace: String, work: Work, say: @escaping @Sendable (String) -> Void) async throws -> ValidationReport {
        let with = Dictionary(spec.with.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
        let data = with["data"] ?? "", schema = with["schema"] ?? ""
        var referencePath: String?, referenceName: String?, referenceProblem: String?
        if let named = with["reference"] {
            referencePath = try WorkspaceFile.resolve(named, in: workspace)
            referenceName = named
        } else if let resolve = work.referenceData, let found = await Offload.run({ resolve(data, workspace) }) {
            switch found {
            case .file(let path, let name):
                referencePath = path
                referenceName = name
            case .unavailable(let reason):
                referenceProblem = reason
            }
        }
        var input = DataSetValidation.Input(dataPath: try WorkspaceFile.resolve(data, in: workspace), dataName: data,
                                            schemaPath: try WorkspaceFile.resolve(schema, in: workspace),
                                            schemaName: schema, referencePath: referencePath, referenceName: referenceName)
        input.referenceProblem = referenceProblem
        let prepared = input
        let report = try await Offload.run { try DataSetValidation.run(prepared) }
        for check in report.checks where check.verdict != .pass {
            say("\(check.verdict.rawValue): \(check.column.map { "column '\($0)' " } ?? "")\(check.check): \(check.message)"
                + (check.examples.isEmpty ? "" : " (lines \(check.examples.map { String($0.line) }.joined(separator: ", ")))"))
        }
        for d in report.drift where d.verdict != .pass {
            say("\(d.verdict.rawValue): drift in '\(d.column)': \(d.test) = \(d.statistic) (\(d.thresholdOn) warn \(d.warn), fail \(d.fail))")
        }
        for note in report.notes { say("note: \(note)") }
        say("\(report.rows) rows, \(report.checks.count) checks, \(report.drift.count) drift tests: \(report.verdict.rawValue)")
        return report
    }
}
