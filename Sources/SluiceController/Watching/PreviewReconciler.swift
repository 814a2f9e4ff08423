import FoundationEssentials
import Logging
import SluiceCore
import SluiceRunner
import SluiceStore

/// The previews step of a reconcile: deletes each preview whose merge request was closed or
/// merged (the forge no longer lists it open, or its ref is gone), whose ttl passed, or that a
/// process stopped while deploying (its merge request's run deploys it again), and tells the
/// merge request. Off the watcher's actor: git and Kubernetes work runs on a blocking thread.
struct PreviewReconciler: Sendable {
    let repository: ControllerConfig.Repository
    let service: RunService
    let environment: [String: String]
    /// The settings the forge adapter reads (comments on the merge requests).
    let forgeEnvironment: [String: String]
    let log: Logger

    /// Why a preview goes now, or nil while it stays.
    static func expiry(of p: RunStore.Preview, open: Set<Int>?, refExists: Bool, running: Bool, now: Double) -> String? {
        if let open, !open.contains(p.number) { return "the merge request was closed or merged" }
        if !refExists { return "the merge request's ref is gone (closed or merged)" }
        if now >= p.expiresAt { return "it outlived its ttl (no push since \(EnvironmentChain.time(p.updatedAt)))" }
        if p.state == .deploying, !running { return "its deploy was interrupted (the merge request's next run deploys it again)" }
        return nil
    }

    /// - Parameters:
    ///   - open: the merge requests the forge lists open (nil: it cannot say; then refs and ttls decide).
    ///   - running: merge-request refs whose pipeline is running (their previews may be mid-deploy).
    func reconcile(open: Set<Int>?, running: Set<String>, now: Double) async {
        let (repo, service, environment, forgeEnvironment, log) = (repository, service, environment, forgeEnvironment, self.log)
        do {
            try await Offload.run { () throws in
                let previews = try service.store.previews(repository: repo.url)
                guard !previews.isEmpty else { return }
                let git = try RepositoryWatcher.localRepository(repo, service: service)
                let deployer = PreviewDeployer(store: service.store, environment: environment, stateDirectory: service.stateDirectory)
                for p in previews {
                    guard let why = Self.expiry(of: p, open: open, refExists: git.resolveReference(p.ref) != nil,
                                                running: running.contains(p.ref), now: now) else { continue }
                    log.info("deleting the preview of merge request \(p.number) in \(p.place): \(why)", metadata: ["ref": .string(p.ref)])
                    let removal: PreviewDeployer.Removal
                    do {
                        removal = try deployer.delete(p, repository: git, say: { log.info("\($0)") })
                        if RepositorySource.isRemote(repo.url), !removal.deletedRefs.isEmpty {
                            try Publisher(url: repo.url, environment: environment).push([], deleting: removal.deletedRefs, from: git)
                        }
                    } catch {
                        log.error("the preview of merge request \(p.number) could not be deleted: \(error) (tried again at the next poll)")
                        continue
                    }
                    let notifier = MergeRequestNotifier.forRef(p.ref, environment: forgeEnvironment, warn: { log.warning("\($0)") })
                    for problem in notifier?.preview(PreviewComment.deleted(p, why: why, removed: removal.said)) ?? [] { log.warning("\(problem.message)") }
                }
            }
        } catch {
            log.error("previews could not be reconciled: \(error)")
        }
    }
}
