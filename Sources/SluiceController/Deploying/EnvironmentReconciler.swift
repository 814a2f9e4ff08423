import FoundationEssentials
public import SluiceCore
public import SluiceGit
public import SluiceRegistry
public import SluiceStore

/// Brings an environment to the production version, by state rather than by event: the
/// registry says which version is in production, the store which version the environment
/// was last deployed with; when they differ (a crash between promotion and deploy, a lost
/// state folder, a rollback elsewhere) the production version is deployed. Drift — the live
/// environment differing from the production version's rendered manifests (an object edited
/// or deleted by hand) — is measured with a dry run and, with `sync.selfHeal`, corrected.
public struct EnvironmentReconciler: Sendable {
    public let store: RunStore
    public let registry: any ModelRegistry
    public let environment: [String: String]

    public init(store: RunStore, registry: any ModelRegistry, environment: [String: String]) {
        self.store = store
        self.registry = registry
        self.environment = environment
    }

    public enum Action: Sendable {
        /// No model in production yet: nothing to deploy.
        case nothingInProduction
        /// The environment already runs the production version.
        case upToDate(version: String)
        /// The production version was deployed now (the environment ran `previous`).
        case deployed(version: String, previous: String?, result: DeployService.Result)
        /// The production version's commit declares no `deploy`.
        case noDeploy
    }

    /// Deploys `model`'s production version to `deploy.environment` when that environment was
    /// last deployed with another version (or never by this state folder).
    public func ensureDeployed(model: String, deploy: DeploySpec, repository: GitRepository,
                               progress: (String) -> Void = { _ in }) throws -> Action {
        guard let production = try Promotion(store: store, registry: registry).production(model: model).version else { return .nothingInProduction }
        let deployed = try store.deployedVersion(model: model, environment: deploy.environment)
        if deployed?.version == production.version { return .upToDate(version: production.version) }
        guard let result = try Environments(registry: registry, store: store, environment: environment)
            .deploy(production, repository: repository, action: "Deploy", dryRun: false, progress: progress) else { return .noDeploy }
        if result.healthy == false {
            throw RolloutFailed(description: "deploying version \(production.version) of \(model) to \(deploy.environment) failed: \(result.failure ?? "not healthy")")
        }
        return .deployed(version: production.version, previous: deployed?.version, result: result)
    }

    /// The deploy was applied but its workloads did not become ready (the `Healthy` condition).
    public struct RolloutFailed: Error, CustomStringConvertible {
        public var description: String
    }

    public struct Drift: Sendable {
        public var version: String
        /// The diff lines of objects that differ (empty: in sync).
        public var changes: [String]
        /// Set when `selfHeal` applied the manifests again.
        public var healed: DeployService.Result?
        public var inSync: Bool { changes.isEmpty }
    }

    /// Compares the environment with the production version's rendered manifests (a dry run);
    /// with `selfHeal` a drifted environment is written again. nil: nothing in production.
    public func checkDrift(model: String, selfHeal: Bool, repository: GitRepository, progress: (String) -> Void = { _ in }) throws -> Drift? {
        guard let production = try Promotion(store: store, registry: registry).production(model: model).version else { return nil }
        let environments = Environments(registry: registry, store: store, environment: environment)
        guard let preview = try environments.deploy(production, repository: repository, action: "Deploy", dryRun: true) else { return nil }
        var drift = Drift(version: production.version, changes: preview.changes.filter { !$0.hasPrefix(" ") })
        if !drift.inSync, selfHeal {
            drift.healed = try environments.deploy(production, repository: repository, action: "Self-heal", dryRun: false, progress: progress)
        }
        return drift
    }
}
