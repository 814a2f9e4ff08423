import FoundationEssentials
import SluiceCore
import SluiceStore

/// The built-in `uses: validate-data`: the data file against its schema, and drift against the
/// reference (or the production model's data). The report is kept whether it passes or not.
struct ValidateDataStageRunner: StageRunner {
    let pipeline: PipelineRunner

    func run(_ stage: StageRun) async -> StageExecution {
        let spec = stage.spec
        do {
            let report = try await pipeline.validateData(spec, workspace: stage.workspace, work: stage.work, say: stage.say)
            let json = String(decoding: try PipelineRunner.encoder.encode(report), as: UTF8.self)
            let record = ReportRecord(runId: stage.record.runId, stage: stage.record.stage, kind: "validation",
                                      path: spec.with.first { $0.key == "data" }?.value ?? "", content: json)
            guard report.verdict == .fail else { return StageExecution(succeeded: true, reports: [record]) }
            let failedChecks = report.failedChecks.count
            let drifted = Set(report.drift.filter { $0.verdict == .fail }.map(\.column)).count
            return StageExecution(succeeded: false, message: "data validation failed: \(failedChecks) check\(failedChecks == 1 ? "" : "s") failed, "
                                  + "drift in \(drifted) column\(drifted == 1 ? "" : "s")", reports: [record])
        } catch {
            stage.say("\(error)")
            return .failed("\(error)")
        }
    }
}
