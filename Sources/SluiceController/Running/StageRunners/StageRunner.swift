import SluiceCore
import SluiceRunner
import SluiceStore

/// How one stage executes once the cache did not answer for it: one conformance per runner
/// (local process, sandboxed local process, Kubernetes Job, the built-in validate-data). The
/// pipeline around it (cache, logs, outputs, metrics, the store) is the same for every runner,
/// so a new runner is its own file here plus one line in `StageRunners.choose`.
protocol StageRunner: Sendable {
    func run(_ stage: StageRun) async -> StageExecution
}

/// What a runner gets: the stage, its row, its workspace and environment, and where its lines go.
struct StageRun: Sendable {
    var spec: StageSpec
    var record: StageResultRecord
    var workspace: String
    var commit: String
    var work: PipelineRunner.Work
    var environment: StageEnvironment
    /// A line from Sluice about the stage (its log and the live events).
    var say: @Sendable (String) -> Void
    /// A line the stage itself printed.
    var line: @Sendable (LogLine) -> Void
}

/// What a runner reports back.
struct StageExecution: Sendable {
    var succeeded: Bool
    var cancelled = false
    /// Why it did not succeed (or a summary, said already).
    var message: String?
    var exitCode: Int32?
    /// The Kubernetes Job that ran it, and the image by digest.
    var job: String?
    var image: String?
    /// Reports the runner made itself (validate-data's).
    var reports: [ReportRecord] = []

    static func failed(_ message: String) -> StageExecution { StageExecution(succeeded: false, message: message) }
}

/// The registration of every runner.
enum StageRunners {
    static func choose(_ spec: StageSpec, work: PipelineRunner.Work, pipeline: PipelineRunner) -> any StageRunner {
        if spec.uses == .validateData { return ValidateDataStageRunner(pipeline: pipeline) }
        guard spec.command != nil else { return NoCommandStageRunner() }
        if work.spec.runner.kind == .kubernetes { return KubernetesStageRunner(pipeline: pipeline) }
        return LocalStageRunner(pipeline: pipeline, sandboxed: work.sandboxed)
    }
}

/// A stage with neither a command nor a built-in (only outputs to collect).
struct NoCommandStageRunner: StageRunner {
    func run(_ stage: StageRun) async -> StageExecution { StageExecution(succeeded: true) }
}
