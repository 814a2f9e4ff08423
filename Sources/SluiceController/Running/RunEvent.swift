public import SluiceRunner
public import SluiceCore
import SluiceStore

/// What a running pipeline reports as it goes (for progress on a terminal, the
/// controller's metrics, and tests).
public enum RunEvent: Sendable {
    case runStarted(runID: Int64, commit: String, workspace: String)
    case stageStarted(stage: String)
    case stageLine(stage: String, line: LogLine)
    case stageFinished(stage: String, status: StageStatus, message: String?, seconds: Double)
    case runFinished(runID: Int64, status: RunStatus)
}
