import FoundationEssentials
public import SluiceCore
public import SluiceGit
public import SluiceRegistry

/// Deploys registered versions by hand (`sluice deploy`, promote, rollback): each version is
/// rendered from its own commit's manifests and `deploy` settings.
public struct Environments: Sendable {
    public let registry: any ModelRegistry

    public init(registry: any ModelRegistry) { self.registry = registry }

    public struct NotDeployable: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// The `deploy` section and rendered manifests of a version's commit (nil: it deploys nothing).
    public func render(_ version: RegisteredVersion, repository: GitRepository) throws -> (deploy: DeploySpec, files: [(path: String, content: String)])? {
        let commit = try repository.commit(version.commit)
        guard let bytes = commit.contents(at: CommitPlanner.specFile) else {
            throw NotDeployable(description: "commit \(version.commit.prefix(12)) of \(version.model) version \(version.version) has no \(CommitPlanner.specFile)")
        }
        let loaded = SpecLoader.load(bytes: bytes, file: CommitPlanner.specFile, paths: CommitPathLookup(commit))
        guard let spec = loaded.spec else { throw DiagnosticsError(loaded.diagnostics) }
        guard let deploy = spec.deploy else { return nil }
        let facts = DeployService.facts(for: version, deploy: deploy, registryKind: registry.kind)
        return (deploy, try DeployService().render(commit: commit, deploy: deploy, facts: facts))
    }

    /// Renders and writes a version to its environment (`dryRun`: only says what would change);
    /// nil when its commit declares no `deploy`.
    public func deploy(_ version: RegisteredVersion, repository: GitRepository, action: String, dryRun: Bool) throws -> DeployService.Result? {
        guard let (deploy, files) = try render(version, repository: repository) else { return nil }
        guard deploy.target == .branch else {
            throw NotDeployable(description: "the kubernetes target is not available in this version; use 'target: branch' and let Argo CD or Flux sync it")
        }
        if dryRun {
            return DeployService.Result(branch: DeployService.branch(for: deploy), commit: nil,
                                        changes: DeployService().diff(files, deploy: deploy, repository: repository))
        }
        let facts = DeployService.facts(for: version, deploy: deploy, registryKind: registry.kind)
        return try DeployService().deployToBranch(files, deploy: deploy, repository: repository,
                                                  message: DeployService.message(facts, action: action, runID: version.runID))
    }
}
