import Logging
import SluiceCore
import SluiceStore

/// Merge-request previews: what a merge request's pipeline gets to deploy one, and the
/// reconcile step that deletes them (`PreviewReconciler`).
extension RepositoryWatcher {
    /// The preview context of a merge-request run whose spec declares `preview:` (nil otherwise).
    func previewContext(ref: String, run: RunRecord, spec: PipelineSpec) async -> PreviewContext? {
        guard spec.preview != nil, let number = MergeRequestRef.number(of: ref) else { return nil }
        var deployer = PreviewDeployer(store: service.store, environment: environment, stateDirectory: service.stateDirectory)
        // A command check of a preview runs as the environment's do: a Job on the Kubernetes runner (under its no-rights account).
        deployer.pod = service.runner.verifyPod(runner: spec.runner, repositoryKey: repository.url, runID: run.id, commit: run.commit)
        let head = run.commit
        return PreviewContext(deployer: deployer, repositoryName: repository.name, withheld: await previewWithheld(number: number, ref: ref, head: head))
    }

    /// A fork's merge request gets a preview only once its head was approved, whatever
    /// `merge-requests.forks` lets run: a preview runs its code with the cluster's network.
    private func previewWithheld(number: Int, ref: String, head: String) async -> String? {
        switch await origin(of: number) {
        case .sameRepository: return nil
        case .unknown(let why): return "whether the merge request comes from a fork is not known (\(why))"
        case .fork(let from):
            do {
                if try service.store.approval(repository: repository.url, ref: ref, commit: head) != nil { return nil }
            } catch {
                return "its approval could not be read: \(error)"
            }
            return "it comes from \(from.map { "the fork \($0)" } ?? "a fork") and its head is not approved (sluice approve-run)"
        }
    }

    /// Deletes previews that are due to go (see `PreviewReconciler`).
    func reconcilePreviews() async {
        let any: Bool
        do { any = try !service.store.previews(repository: repository.url).isEmpty } catch {
            log.error("the previews could not be read: \(error)")
            return
        }
        guard any else { return }
        // Asked once per pass: the merge-request step may have asked already.
        let open: Set<Int>?
        if let said = openThisPass { open = said } else { open = await openMergeRequests() }
        await PreviewReconciler(repository: repository, service: service, environment: environment, forgeEnvironment: forgeEnvironment, log: log)
            .reconcile(open: open, running: Set(mergeRequestsRunning.keys), now: WallClock.now())
    }
}
