import SluiceCore
import SluiceGit
import SluiceRunner
import SluiceStore

/// The source step of a reconcile (`Fetched`): fetch the repository in one of the controller's
/// fetch slots, resolve its production branch (`ProductionBranch`), and list the tracked refs
/// whose heads moved since they were last planned. Off the watcher's actor: git work runs on a
/// blocking thread (`Offload`).
struct SourceReconciler: Sendable {
    let repository: ControllerConfig.Repository
    /// Where the processed refs are; its state folder holds the mirrors.
    let store: RunStore
    let credentials: GitCredentials
    let slots: ControllerSlots

    /// What one fetch observed.
    struct Observation: Sendable {
        /// `refs/heads/<production branch>`.
        var productionRef: String
        /// Tracked refs whose heads moved (the production branch, merge requests).
        var updates: [RefTracker.Update]
        /// The production branch's tip, and whether its spec deploys (gate and deploy).
        var deployingHead: (head: String, deploys: Bool)?
        /// The tip's `sluice.yaml` as checked, when the tip moved since the last fetch.
        var tipSpec: TipSpec?
    }

    enum TipSpec: Sendable, Equatable {
        case valid(head: String)
        /// Each located error, one line each.
        case invalid(head: String, errors: [String])
        case missing(head: String)
    }

    /// Fetches; nil when cancelled while waiting for a slot. `known` is the tip read last time
    /// (its spec is read again only when the tip moved).
    func fetch(known: (head: String, deploys: Bool)?) async throws -> Observation? {
        let (repo, store, credentials) = (repository, self.store, credentials)
        return try await slots.fetches.run({ try await Offload.run { () throws -> Observation in
            let git = try RepositorySource.open(repo.url, stateDirectory: store.stateDirectory, credentials: credentials, mergeRequests: repo.mergeRequests)
            let branch = try ProductionBranch.resolve(configured: repo.branch, repository: git)
            let refs = try RefTracker.trackedRefs(in: git, branches: [branch], mergeRequests: repo.mergeRequests)
            let tracker = try RefTracker(store: store, repository: repo.url)
            // Whether the tip deploys anywhere (then the environment is reconciled too); read once per tip.
            let head = git.resolveReference(ProductionBranch.ref(branch))
            var deploys = known.map { $0.head == head && $0.deploys } ?? false
            var tipSpec: TipSpec?
            if let head, known?.head != head {
                let commit = try git.commit(head)
                if let bytes = commit.contents(at: CommitPlanner.specFile) {
                    let loaded = SpecLoader.load(bytes: bytes, file: CommitPlanner.specFile, paths: CommitPathLookup(commit))
                    if let spec = loaded.spec {
                        deploys = spec.gate != nil && spec.deploy != nil
                        tipSpec = .valid(head: head)
                    } else {
                        let errors = DiagnosticRenderer.sorted(loaded.diagnostics).filter { $0.severity == .error }.map(DiagnosticRenderer.line)
                        tipSpec = .invalid(head: head, errors: errors)
                    }
                } else {
                    tipSpec = .missing(head: head)
                }
            }
            return Observation(productionRef: ProductionBranch.ref(branch), updates: try tracker.updates(in: git, refs: refs),
                               deployingHead: head.map { ($0, deploys) }, tipSpec: tipSpec)
        } })
    }
}
