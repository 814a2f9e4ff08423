import SluiceCore

extension CommitPipeline.Outcome {
    /// The conditions a production-branch run decides (`Trained`, `Gated`): a run whose gate
    /// could not be evaluated still trained; a cancelled run decides nothing (the caller skips it).
    func productionReport(runID: Int64, commit: String) -> StepReport {
        var report = StepReport()
        let short = commit.prefix(12)
        if status == .succeeded || gateError != nil {
            report.set(.trained, .true, reason: "Succeeded", message: "run \(runID) of \(short) succeeded")
        } else {
            report.set(.trained, .false, reason: "RunFailed", message: "run \(runID) of \(short) \(status.rawValue)" + (run.message.map { ": \($0)" } ?? ""))
        }
        if let error = gateError {
            report.set(.gated, .false, reason: "GateNotEvaluated", message: "run \(runID): \(error)")
        } else if let gate {
            let reason = gate.report.decision == .promote ? "Promoted" : gate.report.decision == .reject ? "Rejected" : "NothingNew"
            report.set(.gated, .true, reason: reason, message: "run \(runID): \(gate.report.decision.rawValue)" + (gate.promoted ? ", version \(gate.version ?? "?")" : ""))
        }
        return report
    }
}
