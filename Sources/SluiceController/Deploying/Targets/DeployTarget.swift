public import SluiceCore
public import SluiceGit
public import SluiceStore

/// Where an environment's rendered objects go: one conformance per `deploy.target`. Promotion,
/// rollback, self-heal, `sluice deploy`, `diff` and `status` all ask the target, so a new target
/// is its own file here plus one line in `DeployTargets.make`.
public protocol DeployTarget: Sendable {
    /// How results and reports name it: `sluice/env/production` (a branch), `kubernetes:<context>`.
    var name: String { get }
    /// What writing `objects` would change, one line per object (`+`, `-`, `~`, and detail lines).
    func diff(_ objects: [ManifestObject]) throws -> [String]
    /// Writes `objects`; on a target with workloads, waits for them to become healthy when `wait`
    /// and prunes what the environment no longer renders once they are.
    func write(_ objects: [ManifestObject], facts: DeployFacts, action: String, wait: Bool, progress: (String) -> Void) throws -> DeployService.Result
    /// Where the environment stands against `objects` (`sluice status`).
    func status(_ objects: [ManifestObject]) throws -> EnvironmentStatus
    /// Removes everything written for the environment (a merge-request preview that goes):
    /// what it says it removed, and the refs deleted (to delete on a remote too).
    func removeAll(progress: (String) -> Void) throws -> (said: String, deletedRefs: [String])
}

/// Where one environment stands against the production version's manifests.
public struct EnvironmentStatus: Sendable {
    public var name: String
    /// The target as people read it: `branch sluice/env/production`, `kubernetes:<context>`.
    public var target: String
    /// nil: could not be compared (the reason is in `detail`).
    public var inSync: Bool?
    public var changes: Int
    public var detail: String
    /// Each workload's health (kubernetes).
    public var workloads: [String: String] = [:]
}

/// The registration of every target.
public enum DeployTargets {
    /// The target `deploy` names, for `repository`'s objects; `environment` is Sluice's own
    /// (`KUBECONFIG`, `HOME`).
    public static func make(_ deploy: DeploySpec, repository: GitRepository, store: RunStore, environment: [String: String]) throws -> any DeployTarget {
        switch deploy.target {
        case .branch: return BranchTarget(deploy: deploy, repository: repository)
        case .kubernetes: return try KubernetesTarget(deploy: deploy, repository: repository, store: store, environment: environment)
        }
    }
}
