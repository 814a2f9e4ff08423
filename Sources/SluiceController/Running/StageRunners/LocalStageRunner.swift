import SluiceCore
import SluiceRunner
import SluiceStore

/// A command stage as a local process in its own process group (output captured and masked,
/// time-limited, killed with its group); `sandboxed`: confined to its workspace and a private
/// scratch folder (a merge request's stages, or every stage with `sandbox: all`).
struct LocalStageRunner: StageRunner {
    let pipeline: PipelineRunner
    let sandboxed: Bool

    func run(_ stage: StageRun) async -> StageExecution {
        let spec = stage.spec
        guard let command = spec.command else { return StageExecution(succeeded: true) }
        if let gpus = spec.pod.gpus {
            let refusal = "stage '\(spec.name)' asks for \(gpus) GPU\(gpus == "1" ? "" : "s"), which the local runner cannot give a process; run it with 'runner: { kind: kubernetes }' or 'sluice run --runner kubernetes'"
            stage.say(refusal)
            return .failed(refusal)
        }
        let options = pipeline.options
        var process = ProcessSpec(arguments: ProcessSpec.arguments(for: command), workingDirectory: stage.workspace,
                                  environment: stage.environment.variables, timeoutSeconds: spec.timeoutSeconds.map(Double.init),
                                  masker: stage.environment.masker)
        process.outputLimitBytes = options.outputLimitBytes
        process.killGraceSeconds = options.killGraceSeconds
        let scratch = StageSandbox.scratch(stateDirectory: pipeline.stateDirectory, runID: stage.record.runId, stage: stage.record.stage)
        defer { if sandboxed { pipeline.removeScratch(scratch, say: stage.say) } }
        if sandboxed, let refusal = pipeline.confine(&process, work: stage.work, workspace: stage.workspace, scratch: scratch, say: stage.say) {
            stage.say(refusal)
            return .failed(refusal)
        }
        let (store, record, line, say) = (pipeline.store, stage.record, stage.line, stage.say)
        let outcome: ProcessOutcome
        do {
            outcome = try await StageProcess.run(process, onStart: { pgid in
                // The process group is recorded so a restarted controller can kill what a crash left running.
                var withGroup = record
                withGroup.processGroup = pgid
                do { try store.update(withGroup) } catch { say("the process group \(pgid) was not recorded (\(error)); a crash would leave it running") }
            }, onLine: line)
        } catch {
            stage.say("\(error)")
            return .failed("\(error)")
        }
        // Daemons the stage started in a session of their own (setsid, nohup &) end with it.
        let daemons = LeftoverProcesses.kill(workspace: stage.workspace, stage: spec.name, createdAfter: outcome.pid)
        if !daemons.isEmpty {
            stage.say("killed \(daemons.count) process\(daemons.count == 1 ? "" : "es") the stage left running (pids \(daemons.map(String.init).joined(separator: ", ")))")
        }
        if !outcome.summary.isEmpty { stage.say(outcome.summary) }
        return StageExecution(succeeded: outcome.succeeded, cancelled: outcome.cancelled, message: outcome.summary, exitCode: outcome.exitCode)
    }
}
