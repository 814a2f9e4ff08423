import SluiceCore
import SluiceGit
import SluiceRunner

/// The source step of a reconcile (`Fetched`): fetch the repository in one of the controller's
/// fetch slots, resolve its production branch (`ProductionBranch`), and list the tracked refs
/// whose heads moved since they were last planned. Off the watcher's actor: git work runs on a
/// blocking thread (`Offload`).
struct SourceReconciler: Sendable {
    let repository: ControllerConfig.Repository
    let stateDirectory: String
    let credentials: GitCredentials
    let slots: ControllerSlots

    /// What one fetch observed.
    struct Observation: Sendable {
        /// `refs/heads/<production branch>`.
        var productionRef: String
        /// Tracked refs whose heads moved (the production branch, merge requests).
        var updates: [RefTracker.Update]
        /// The mirror to keep open until the next poll.
        var mirror: GitMirror.Handle?
        /// The production branch's tip, and whether its spec deploys (gate and deploy).
        var deployingHead: (head: String, deploys: Bool)?
    }

    /// Fetches; nil when cancelled while waiting for a slot. `known` is the tip read last time
    /// (its spec is read again only when the tip moved).
    func fetch(reusing kept: GitMirror.Handle?, known: (head: String, deploys: Bool)?) async throws -> Observation? {
        let (repo, state, credentials) = (repository, stateDirectory, credentials)
        return try await slots.fetches.run({ try await Offload.run { () throws -> Observation in
            var handle = kept
            let git = try RepositorySource.open(repo.url, stateDirectory: state, credentials: credentials, mergeRequests: repo.mergeRequests,
                                                reusing: &handle)
            let branch = try ProductionBranch.resolve(configured: repo.branch, repository: git)
            let refs = try RefTracker.trackedRefs(in: git, branches: [branch], mergeRequests: repo.mergeRequests)
            let tracker = try RefTracker(stateDirectory: state, repository: repo.url)
            // Whether the tip deploys anywhere (then the environment is reconciled too); read once per tip.
            let head = git.resolveReference(ProductionBranch.ref(branch))
            var deploys = known.map { $0.head == head && $0.deploys } ?? false
            if let head, known?.head != head, let spec = try CommittedSpec.load(repository: git, commit: head) {
                deploys = spec.gate != nil && spec.deploy != nil
            }
            return Observation(productionRef: ProductionBranch.ref(branch), updates: try tracker.updates(in: git, refs: refs), mirror: handle,
                               deployingHead: head.map { ($0, deploys) })
        } })
    }
}
