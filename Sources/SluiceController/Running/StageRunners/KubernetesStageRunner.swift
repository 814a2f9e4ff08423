import SluiceCore

/// A command stage as a Kubernetes Job (`runner: { kind: kubernetes }`; see `KubernetesStage`).
struct KubernetesStageRunner: StageRunner {
    let pipeline: PipelineRunner

    func run(_ stage: StageRun) async -> StageExecution {
        let outcome = await pipeline.runOnKubernetes(stage.spec, record: stage.record, workspace: stage.workspace, work: stage.work,
                                                     commit: stage.commit, environment: stage.environment, say: stage.say, onLine: stage.line)
        stage.say(outcome.summary)
        return StageExecution(succeeded: outcome.succeeded, cancelled: outcome.cancelled, message: outcome.summary, exitCode: outcome.exitCode,
                              job: outcome.job, image: outcome.image)
    }
}
