import SluiceCore

extension PipelineRunner {
    /// `run.failed`, when the work records events (a production-branch run in the controller):
    /// the stages that failed and the last lines each logged (logs are masked when written).
    func failureEvents(_ run: RunRecord, work: Work, message: String?, results: [StageResultRecord]) -> [NotificationEvent] {
        guard let source = work.events else { return [] }
        let failed = results.filter { $0.status == .failed }.sorted { $0.stage < $1.stage }
        return [source.runFailed(run: run.id!, commit: run.commit, message: message,
                                 failures: failed.map { ($0.stage, $0.logPath.map { StageLog.tail($0, lines: 5) } ?? []) }, time: WallClock.now())]
    }
}
