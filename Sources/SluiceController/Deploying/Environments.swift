import FoundationEssentials
public import SluiceCore
public import SluiceGit
import SluiceKube
public import SluiceRegistry
public import SluiceStore

/// Deploys registered versions by hand (`sluice deploy`, promote, rollback): each version is
/// rendered from its own commit's manifests and `deploy` settings.
public struct Environments: Sendable {
    public let registry: any ModelRegistry
    public let store: RunStore
    /// Sluice's environment: `KUBECONFIG`, `HOME` for the kubernetes target.
    public let environment: [String: String]

    public init(registry: any ModelRegistry, store: RunStore, environment: [String: String]) {
        self.registry = registry
        self.store = store
        self.environment = environment
    }

    public struct NotDeployable: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// The `deploy` section and rendered objects of a version's commit (nil: it deploys nothing).
    /// - Parameter environment: one of its `environments:` by name (nil: production, its `deploy`).
    public func render(_ version: RegisteredVersion, repository: GitRepository, environment name: String? = nil) throws -> (deploy: DeploySpec, objects: [ManifestObject])? {
        let commit = try repository.commit(version.commit)
        guard let bytes = commit.contents(at: CommitPlanner.specFile) else {
            throw NotDeployable(description: "commit \(version.commit.prefix(12)) of \(version.model) version \(version.version) has no \(CommitPlanner.specFile)")
        }
        let loaded = SpecLoader.load(bytes: bytes, file: CommitPlanner.specFile, paths: CommitPathLookup(commit))
        guard let spec = loaded.spec else { throw DiagnosticsError(loaded.diagnostics) }
        let chosen = name.map { n in spec.environments.first { $0.name == n }?.deploy } ?? spec.deploy
        guard let deploy = chosen else {
            if let name { throw NotDeployable(description: "commit \(version.commit.prefix(12)) of \(version.model) version \(version.version) has no environment '\(name)'") }
            return nil
        }
        let facts = DeployService.facts(for: version, deploy: deploy, registryKind: registry.kind)
        return (deploy, try ManifestRenderer.render(commit: commit, deploy: deploy, facts: facts, environment: environment))
    }

    /// Renders and writes a version to its environment (`dryRun`: only says what would change);
    /// nil when its commit declares no `deploy`. On Kubernetes the result says whether the
    /// rollout became healthy; rolling back a failed one is the caller's decision.
    public func deploy(_ version: RegisteredVersion, repository: GitRepository, action: String, dryRun: Bool, wait: Bool = true,
                       environment name: String? = nil, progress: (String) -> Void = { _ in }) throws -> DeployService.Result? {
        guard let (deploy, objects) = try render(version, repository: repository, environment: name) else { return nil }
        return try write(objects, deploy: deploy, facts: DeployService.facts(for: version, deploy: deploy, registryKind: registry.kind),
                         repository: repository, action: action, dryRun: dryRun, wait: wait, progress: progress)
    }

    /// Writes rendered objects to the deploy target.
    /// - Parameter wait: on Kubernetes, wait for the rollout to become healthy (default).
    public func write(_ objects: [ManifestObject], deploy: DeploySpec, facts: DeployFacts, repository: GitRepository, action: String,
                      dryRun: Bool, wait: Bool = true, progress: (String) -> Void = { _ in }) throws -> DeployService.Result {
        if dryRun { return try apply(objects, deploy: deploy, facts: facts, repository: repository, action: action, dryRun: true, wait: wait, progress: progress) }
        // Every deploy (promotion, rollback, self-heal, `sluice deploy`) is counted here.
        let started = Date().timeIntervalSince1970
        let committed = try repository.commit(facts.commit).time
        do {
            let result = try apply(objects, deploy: deploy, facts: facts, repository: repository, action: action, dryRun: false, wait: wait, progress: progress)
            let now = Date().timeIntervalSince1970
            ControllerMetrics.deploy(environment: deploy.environment, succeeded: result.healthy != false, seconds: now - started,
                                     commitToDeployed: now - Double(committed))
            return result
        } catch {
            ControllerMetrics.deploy(environment: deploy.environment, succeeded: false, seconds: Date().timeIntervalSince1970 - started, commitToDeployed: nil)
            throw error
        }
    }

    private func apply(_ objects: [ManifestObject], deploy: DeploySpec, facts: DeployFacts, repository: GitRepository, action: String,
                       dryRun: Bool, wait: Bool, progress: (String) -> Void) throws -> DeployService.Result {
        switch deploy.target {
        case .branch:
            let files = try ManifestRenderer.files(objects)
            if dryRun {
                return DeployService.Result(branch: DeployService.branch(for: deploy), commit: nil,
                                            changes: DeployService().diff(files, deploy: deploy, repository: repository))
            }
            let result = try DeployService().deployToBranch(files, deploy: deploy, repository: repository,
                                                            message: DeployService.message(facts, action: action, runID: facts.run))
            try store.setDeployedVersion(model: facts.model, environment: deploy.environment, version: facts.version, at: Date().timeIntervalSince1970)
            return result
        case .kubernetes:
            let deployer = try kubernetes(deploy, repository: repository)
            let target = "kubernetes:\(deployer.client.config.context)"
            if dryRun { return DeployService.Result(branch: target, commit: nil, changes: try deployer.diff(objects)) }
            let outcome = try deployer.apply(objects, progress: progress)
            var result = DeployService.Result(branch: target, commit: nil, changes: outcome.changed.map { "~ \($0)" } + outcome.notes)
            if wait {
                let health = try deployer.waitHealthy(objects, timeout: Double(deploy.timeoutSeconds), progress: progress)
                result.healthy = health.healthy
                result.failure = health.message
            }
            // Pruned only once the new objects are healthy: a failed rollout keeps what it replaces.
            if result.healthy != false {
                // A prune that fails does not undo a healthy rollout: what is left stays in the
                // inventory and is pruned at the next deploy.
                do {
                    let pruning = try deployer.prune(keeping: objects, progress: progress)
                    result.pruned = pruning.pruned
                    result.kept = pruning.kept
                } catch {
                    result.kept.append("pruning stopped: \(error) (tried again at the next deploy)")
                    progress("pruning stopped: \(error)")
                }
                try store.setDeployedVersion(model: facts.model, environment: deploy.environment, version: facts.version, at: Date().timeIntervalSince1970)
            }
            return result
        }
    }

    /// The deployer of `deploy` for `repository`'s objects (its inventory is its own).
    public func kubernetes(_ deploy: DeploySpec, repository: GitRepository) throws -> KubernetesDeployer {
        let config = try KubeConfig.load(environment: environment, context: deploy.context)
        return KubernetesDeployer(client: KubeClient(config: config), store: store, deploy: deploy, repository: Self.inventoryKey(repository))
    }

    /// The repository as inventories name it: its resolved path (a remote one's mirror, which
    /// the state folder names after its URL).
    static func inventoryKey(_ repository: GitRepository) -> String {
        StageSandbox.realPath(repository.path) ?? repository.path
    }
}
