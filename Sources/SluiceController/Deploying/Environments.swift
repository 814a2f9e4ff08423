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
            throw NotDeployable(description: "commit \(CommitID(version.commit).short) of \(version.model) version \(version.version) has no \(CommitPlanner.specFile)")
        }
        let loaded = SpecLoader.load(bytes: bytes, file: CommitPlanner.specFile, paths: CommitPathLookup(commit))
        guard let spec = loaded.spec else { throw DiagnosticsError(loaded.diagnostics) }
        let chosen = name.map { n in spec.environments.first { $0.name == n }?.deploy } ?? spec.deploy
        guard let deploy = chosen else {
            if let name { throw NotDeployable(description: "commit \(CommitID(version.commit).short) of \(version.model) version \(version.version) has no environment '\(name)'") }
            return nil
        }
        let facts = try self.facts(for: version, deploy: deploy)
        return (deploy, try ManifestRenderer.render(commit: commit, deploy: deploy, facts: facts, environment: environment))
    }

    /// Renders and writes a version to its environment (`dryRun`: only says what would change);
    /// nil when its commit declares no `deploy`. On Kubernetes the result says whether the
    /// rollout became healthy; rolling back a failed one is the caller's decision.
    public func deploy(_ version: RegisteredVersion, repository: GitRepository, action: String, dryRun: Bool, wait: Bool = true,
                       environment name: String? = nil, progress: (String) -> Void = { _ in }) throws -> DeployService.Result? {
        guard let (deploy, objects) = try render(version, repository: repository, environment: name) else { return nil }
        return try write(objects, deploy: deploy, facts: try facts(for: version, deploy: deploy),
                         repository: repository, action: action, dryRun: dryRun, wait: wait, progress: progress)
    }

    /// What the version's manifests are rendered with, its signature bundle's digest included.
    func facts(for version: RegisteredVersion, deploy: DeploySpec) throws -> DeployFacts {
        DeployService.facts(for: version, deploy: deploy, registryKind: registry.kind,
                            signature: try version.runID.flatMap { try ModelSigning.bundle(run: $0, store: store) })
    }

    /// Writes rendered objects to the deploy target.
    /// - Parameter wait: on Kubernetes, wait for the rollout to become healthy (default).
    public func write(_ objects: [ManifestObject], deploy: DeploySpec, facts: DeployFacts, repository: GitRepository, action: String,
                      dryRun: Bool, wait: Bool = true, progress: (String) -> Void = { _ in }) throws -> DeployService.Result {
        if dryRun { return try apply(objects, deploy: deploy, facts: facts, repository: repository, action: action, dryRun: true, wait: wait, progress: progress) }
        if let signing = deploy.signatureKey {
            // `require: { signature: true }`: the files as stored now, against the gate's signature; nothing is written otherwise.
            let key = try ModelSigning.privateKey(signing, environment: environment).publicKey
            if let problem = try ModelVerification.check(run: facts.run, digest: facts.digest, key: key, store: store).problem {
                throw NotDeployable(description: "\(facts.model) version \(facts.version) is not deployed to \(deploy.environment): its signature does not hold: \(problem)")
            }
        }
        // Every deploy (promotion, rollback, self-heal, `sluice deploy`) is counted here.
        let started = WallClock.now()
        let committed = try repository.commit(facts.commit).time
        do {
            let result = try apply(objects, deploy: deploy, facts: facts, repository: repository, action: action, dryRun: false, wait: wait, progress: progress)
            let now = WallClock.now()
            ControllerMetrics.deploy(environment: deploy.environment, succeeded: result.healthy != false, seconds: now - started,
                                     commitToDeployed: now - Double(committed))
            return result
        } catch {
            ControllerMetrics.deploy(environment: deploy.environment, succeeded: false, seconds: WallClock.now() - started, commitToDeployed: nil)
            throw error
        }
    }

    private func apply(_ objects: [ManifestObject], deploy: DeploySpec, facts: DeployFacts, repository: GitRepository, action: String,
                       dryRun: Bool, wait: Bool, progress: (String) -> Void) throws -> DeployService.Result {
        let target = try target(deploy, repository: repository)
        if dryRun { return DeployService.Result(branch: target.name, kind: deploy.target, commit: nil, changes: try target.diff(objects)) }
        try store.requireLeadership(for: "deploying \(facts.model) version \(facts.version) to \(deploy.environment)")
        let result = try target.write(objects, facts: facts, action: action, wait: wait, progress: progress)
        // An unhealthy rollout is not what the environment runs: rolling back is the caller's decision.
        if result.healthy != false {
            try store.setDeployedVersion(model: facts.model, environment: deploy.environment, version: facts.version, at: WallClock.now())
        }
        return result
    }

    /// The target `deploy` names, for `repository`'s objects.
    public func target(_ deploy: DeploySpec, repository: GitRepository) throws -> any DeployTarget {
        try DeployTargets.make(deploy, repository: repository, store: store, environment: environment)
    }

    /// The Kubernetes deployer of `deploy` for `repository`'s objects (its inventory is its own):
    /// the canary's replica moves go through its client.
    public func kubernetes(_ deploy: DeploySpec, repository: GitRepository) throws -> KubernetesDeployer {
        try KubernetesTarget(deploy: deploy, repository: repository, store: store, environment: environment).deployer
    }

    /// The repository as inventories name it: its resolved path (a remote one's mirror, which
    /// the state folder names after its URL).
    static func inventoryKey(_ repository: GitRepository) -> String {
        StageSandbox.realPath(repository.path) ?? repository.path
    }
}
