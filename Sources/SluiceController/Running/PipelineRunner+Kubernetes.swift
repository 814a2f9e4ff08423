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
            stage = KubernetesStage(client: client, kubeWatches: kubeClients.watches, runner: runner,
                                    namespace: runner.namespace ?? client.config.namespace, options: kubernetes,
                                    tokens: try kubeClients.tokens(stateDirectory: stateDirectory), repository: work.repositoryKey, runID: record.runId,
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
            let tokens = try kubeClients.tokens(stateDirectory: stateDirectory)
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

extension PipelineRunner {
    /// Runs an environment's command checks as Kubernetes Jobs when the version's pipeline ran on
    /// the Kubernetes runner (nil: they run here). The check is a stage of its own (no secrets,
    /// no outputs); its checkout, with the model files, is the workspace the pod fetches.
    public func verifyPod(runner: RunnerSpec, repositoryKey: String, runID: Int64?, commit: String)
        -> (@Sendable (StageSpec, String) async -> (passed: Bool, detail: String))? {
        guard runner.kind == .kubernetes, let kubernetes = options.kubernetes, let runID else { return nil }
        return { stage, workspace in
            let lines = LineTail()
            do {
                let client = try kubeClients.client(context: runner.context, environment: options.environment)
                let tokens = try kubeClients.tokens(stateDirectory: stateDirectory)
                let namespace = runner.namespace ?? client.config.namespace
                let environment = StageEnvironment(stage: stage, controller: options.environment, commit: commit, ref: nil, runID: runID,
                                                   workspace: workspace, datasetVersions: [:], secretsAllowed: false)
                let pod = KubernetesStage(client: client, kubeWatches: kubeClients.watches, runner: runner, namespace: namespace,
                                          options: kubernetes, tokens: tokens,
                                          repository: repositoryKey, runID: runID, commit: commit, stage: stage, untrusted: false,
                                          workspace: workspace, scratch: "\(stateDirectory)/scratch/\(stage.name)-\(runID)",
                                          environment: environment, secrets: [], controllerEnvironment: options.environment,
                                          outputLimitBytes: options.outputLimitBytes)
                let outcome = await pod.run(attachTo: nil, say: { lines.add($0) }, onLine: { lines.add($0.text) }, onJob: { _ in })
                // The run's Secret was deleted when its stages ended; the check made it again.
                let secret = tokens.secretName(repository: repositoryKey, run: runID)
                try await Offload.run { try client.delete(apiVersion: "v1", kind: "Secret", namespace: namespace, name: secret, propagation: "Orphan") }
                let tail = lines.last(5)
                return (outcome.succeeded, "\(outcome.job.map { "Job \($0): " } ?? "")\(outcome.summary)" + (tail.isEmpty ? "" : ": " + tail.joined(separator: " / ")))
            } catch {
                return (false, "the check could not run on Kubernetes: \(error)")
            }
        }
    }
}
