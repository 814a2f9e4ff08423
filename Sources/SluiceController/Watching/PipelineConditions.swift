import SluiceCore

extension CommitPipeline.Outcome {
    /// The conditions a production-branch run decides (`Trained`, `Gated`): a run whose gate
    /// could not be evaluated still trained; a cancelled run decides nothing (the caller skips it).
    func productionReport(runID: Int64, commit: String) -> StepReport {
        var report = StepReport()
        let short = CommitID(commit).short
        if status == .succeeded || gateError != nil {
            report.set(.succeeded, message: "run \(runID) of \(short) succeeded")
        } else {
            report.set(.runFailed, message: "run \(runID) of \(short) \(status.rawValue)" + (run.message.map { ": \($0)" } ?? ""))
        }
        if let error = gateError {
            report.set(.gateNotEvaluated, message: "run \(runID): \(error)")
        } else if let gate {
            let reason: ConditionReason = gate.report.decision == .promote ? .promoted : gate.report.decision == .reject ? .rejected : .nothingNew
            report.set(reason, message: "run \(runID): \(gate.report.decision.rawValue)" + (gate.promoted ? ", version \(gate.version ?? "?")" : ""))
        }
        return report
    }
}
