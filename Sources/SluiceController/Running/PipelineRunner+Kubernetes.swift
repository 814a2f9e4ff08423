import FoundationEssentials
import SluiceCore
import SluiceKube
import SluiceRunner
import SluiceStore

/// Command stages on the Kubernetes runner (see `KubernetesStage`).
extension PipelineRunner {
    func runOnKubernetes(_ spec: StageSpec, record: StageResultRecord, workspace: String, work: Work, commit: String,
                         environment: StageEnvironment, say: @escaping @Sendable (String) -> Void,
                         onLine: @escaping @Sendable (LogLine) -> Void) async -> KubernetesStage.Outcome {
        guard let kubernetes = options.kubernetes else {
            return KubernetesStage.Outcome(summary: "this Sluice cannot run stages on Kubernetes (no pod endpoint); run it with 'sluice run' or 'sluice watch'")
        }
        let runner = work.spec.runner
        let stage: KubernetesStage
        do {
            let client = try kubeClients.client(context: runner.context, environment: options.environment)
            let secretsAllowed = StageEnvironment.secretsAllowed(ref: work.ref, mergeRequestSecrets: work.mergeRequestSecrets)
            stage = KubernetesStage(client: client, runner: runner, namespace: runner.namespace ?? client.config.namespace, options: kubernetes,
                                    tokens: try RunnerTokens(stateDirectory: stateDirectory), repository: work.repositoryKey, runID: record.runId,
                                    commit: commit, stage: spec, untrusted: work.cacheScope.isMergeRequest, workspace: workspace,
                                    scratch: StageSandbox.scratch(stateDirectory: stateDirectory, runID: record.runId, stage: spec.name),
                                    environment: environment, secrets: secretsAllowed ? spec.secrets : [],
                                    controllerEnvironment: options.environment, outputLimitBytes: options.outputLimitBytes)
        } catch {
            return KubernetesStage.Outcome(summary: "cannot reach the Kubernetes API server: \(error)")
        }
        defer { removeScratch(stage.scratch, say: say) }
        return await stage.run(attachTo: record.runnerJob, say: say, onLine: onLine) { job in
            var withJob = record
            withJob.status = .running
            withJob.runnerJob = job
            do { try store.update(withJob) } catch {
                say("the Job's name could not be recorded (\(error)); a controller restart now would start the stage again")
            }
        }
    }

    /// Deletes the run's Secret (and that of the run it retries) once its stages are done. The
    /// finished Jobs stay (orphaned) for `kubectl logs` until their TTL. Returns a problem, if any.
    func removeRunSecrets(_ run: RunRecord, work: Work) async -> String? {
        guard work.spec.runner.kind == .kubernetes, options.kubernetes != nil else { return nil }
        let runner = work.spec.runner
        do {
            let client = try kubeClients.client(context: runner.context, environment: options.environment)
            let namespace = runner.namespace ?? client.config.namespace
            let tokens = try RunnerTokens(stateDirectory: stateDirectory)
            for id in [run.id, run.retryOf].compactMap({ $0 }) {
                let name = tokens.secretName(repository: work.repositoryKey, run: id)
                try await Offload.run { try client.delete(apiVersion: "v1", kind: "Secret", namespace: namespace, name: name, propagation: "Orphan") }
            }
            return nil
        } catch {
            return "the run's Secret could not be deleted from the cluster: \(error)"
        }
    }
}
