import FoundationEssentials
public import SluiceCore
import SluiceGit
import SluiceRegistry
import SluiceStore

/// `sluice render`, `deploy`, `diff`, `status`: the model's environment, asked through its
/// `DeployTarget`.
extension ModelOperations {
    /// A template or its output is invalid (exit 1): where and why.
    public struct RenderFailure: Error, Sendable {
        public var diagnostics: [Diagnostic]
    }

    var environments: Environments {
        get throws { Environments(registry: try promotion.registry, store: store, environment: environment) }
    }

    /// The version in production, or a clear error.
    func production(_ environments: Environments) throws -> RegisteredVersion {
        guard let version = try environments.registry.production(model: model) else {
            throw LoadError(message: "\(model) has no version in production yet", hint: "run `sluice run` on the production branch first")
        }
        return version
    }

    /// The manifests of `commit`, rendered with the facts of the model in production when the
    /// commit is production's, otherwise with the commit's own (version `unreleased`).
    public func render(commit revision: String) throws -> [ManifestObject] {
        let environments = try environments
        let target = try repository.commit(revision)
        guard let spec = try CommittedSpec.load(repository: repository, commit: target.id) else {
            throw LoadError(message: "commit \(CommitID(target.id).short) has no valid \(CommitPlanner.specFile)", hint: "run `sluice validate`")
        }
        guard let deploy = spec.deploy else { throw LoadError(message: "\(CommitPlanner.specFile) has no 'deploy' section: nothing to render") }
        var version = RegisteredVersion(model: model, version: "unreleased", commit: target.id, runID: nil,
                                        metrics: MetricSet(), datasetVersions: DatasetVersions.read(spec, in: target).versions, artifactDigest: nil)
        if let production = try environments.registry.production(model: model), production.commit == target.id {
            version = production
        }
        let facts = try environments.facts(for: version, deploy: deploy)
        do {
            return try ManifestRenderer.render(commit: target, deploy: deploy, facts: facts, environment: environment)
        } catch {
            throw RenderFailure(diagnostics: error.diagnostics)
        }
    }

    /// What `deploy` did to the production version's environment.
    public struct Deployed: Sendable {
        public var model: String
        public var version: String
        public var result: DeployService.Result
    }

    /// Deploys the version in production to its environment (`dryRun`: only says what would change).
    public func deploy(dryRun: Bool, wait: Bool) throws -> Deployed {
        let environments = try environments
        let version = try production(environments)
        guard let result = try environments.deploy(version, repository: repository, action: "Deploy", dryRun: dryRun, wait: wait) else {
            throw LoadError(message: "\(CommitPlanner.specFile) of version \(version.version) has no 'deploy' section")
        }
        return Deployed(model: version.model, version: version.version, result: result)
    }

    /// What deploying the version in production would change (diff lines; empty: in sync).
    public func diff() throws -> [String] {
        let environments = try environments
        return try environments.deploy(try production(environments), repository: repository, action: "Deploy", dryRun: true)?.changes ?? []
    }

    /// What is deployed where: production and its environment (asked of its target), what each
    /// environment before production runs, and the controller's stored conditions.
    public func status() throws -> ModelStatus {
        let environments = try environments
        let key = RepositorySource.stateLocation(location)
        var report = ModelStatus(model: model, registry: environments.registry.kind,
                                 conditions: try store.conditions(repository: key)[key]?.mapValues(\.all) ?? [:])
        if let version = try environments.registry.production(model: model) {
            report.production = version.version
            report.productionCommit = version.commit
            if let (deploy, objects) = try environments.render(version, repository: repository) {
                let status = try environments.target(deploy, repository: repository).status(objects)
                report.environment = ModelStatus.Environment(name: status.name, target: status.target, inSync: status.inSync, changes: status.changes,
                                                             detail: status.detail, workloads: status.workloads)
            }
        }
        report.steps = try store.steps(model: model)
        let head = try CommittedSpec.load(repository: repository, commit: "HEAD")
        for name in Set(report.steps.map(\.environment)) where name != head?.environments.last?.name {
            if let deployed = try store.deployedVersion(model: model, environment: name) {
                report.preProduction[name] = "version \(deployed.version)"
            }
        }
        return report
    }
}

/// What `sluice status` found.
public struct ModelStatus: Encodable, Sendable {
    public struct Environment: Encodable, Sendable {
        public var name: String
        public var target: String
        public var inSync: Bool?
        public var changes: Int
        public var detail: String
        public var workloads: [String: String] = [:]
    }
    public var model: String
    public var production: String?
    public var productionCommit: String?
    public var registry: String
    public var environment: Environment?
    /// What each environment before production runs (`environments:`), by name.
    public var preProduction: [String: String] = [:]
    /// The controller's conditions for this repository (stored under the same state folder).
    public var conditions: [String: [Condition]]
    /// The environment step log (not part of the JSON: `sluice environments` prints it).
    public var steps: [EnvironmentStepRecord] = []

    init(model: String, registry: String, conditions: [String: [Condition]]) {
        self.model = model
        self.registry = registry
        self.conditions = conditions
    }

    enum CodingKeys: String, CodingKey {
        case model, production, productionCommit, registry, environment, preProduction, conditions
    }
}
