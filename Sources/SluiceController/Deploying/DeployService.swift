import FoundationEssentials
public import SluiceCore
public import SluiceGit
public import SluiceRegistry

/// Deploys a model version: renders its commit's manifests with its facts, and writes
/// them to the target. The `branch` target commits them to `sluice/env/<environment>`
/// in the watched repository (pushed back when remote), one commit per change.
public struct DeployService: Sendable {
    public init() {}

    public static func branch(for deploy: DeploySpec) -> String { deploy.branch ?? "sluice/env/\(deploy.environment)" }

    /// - Parameter signature: the version's model-signing bundle, when it was signed.
    public static func facts(for version: RegisteredVersion, deploy: DeploySpec, registryKind: String, signature: String? = nil) -> DeployFacts {
        var facts = DeployFacts(model: version.model, version: version.version, digest: version.artifactDigest ?? "sha256:unknown",
                                uri: registryKind == "mlflow" ? "models:/\(version.model)/\(version.version)" : "sluice:\(version.model)/\(version.version)",
                                commit: version.commit, datasets: version.datasetVersions, environment: deploy.environment,
                                namespace: deploy.namespace ?? "default", run: version.runID ?? 0)
        facts.values = Dictionary(deploy.values.map { ($0.key, $0.value) }) { a, _ in a }
        facts.signature = signature.map { "sha256:" + ContentHash.sha256Hex(Array($0.utf8)) } ?? ""
        return facts
    }

    /// What writing `files` to the target would change.
    public func diff(_ files: [(path: String, content: String)], deploy: DeploySpec, repository: GitRepository) -> [String] {
        ManifestDiff.lines(current: repository.files(onBranch: Self.branch(for: deploy)), next: files, parse: ManifestTree.parse)
    }

    public struct Result: Sendable, Codable {
        /// Where it went, as the target names itself (`DeployTarget.name`): the environment
        /// branch, or `kubernetes:<context>`.
        public var branch: String
        /// The kind of target (nil in deployment reports stored before results said it).
        public var kind: DeploySpec.Target?
        /// The new commit on the environment branch, nil when it already held these manifests.
        public var commit: String?
        public var changes: [String]
        /// Kubernetes: whether the rollout became healthy, and why not.
        public var healthy: Bool? = nil
        public var failure: String? = nil
        public var pruned: [String] = []
        /// Objects no longer rendered that were left in place, each with why (a namespace).
        public var kept: [String] = []

        public init(branch: String, kind: DeploySpec.Target, commit: String?, changes: [String]) {
            self.branch = branch
            self.kind = kind
            self.commit = commit
            self.changes = changes
        }

        /// A deploy that failed before the target wrote anything (it could not be reached, the objects were refused).
        public static func failed(_ deploy: DeploySpec, error: any Error) -> Result {
            var result = Result(branch: deploy.target == .branch ? DeployService.branch(for: deploy) : deploy.target.rawValue, kind: deploy.target,
                                commit: nil, changes: [])
            result.healthy = false
            result.failure = "\(error)"
            return result
        }

        /// "2 objects changed, pruned ConfigMap ml/old; healthy", "no changes; healthy".
        public var kubernetesSummary: String {
            let n = DeployService.objectCount(changes)
            return (n == 0 ? "no changes" : "\(n) object\(n == 1 ? "" : "s") changed")
                + (pruned.isEmpty ? "" : ", pruned \(pruned.joined(separator: ", "))")
                + (kept.isEmpty ? "" : "; left in place: \(kept.joined(separator: "; "))")
                + (healthy == true ? "; healthy" : healthy == false ? "; NOT healthy: \(failure ?? "")" : "")
        }
    }

    /// Writes `files` to the environment branch with `message`.
    public func deployToBranch(_ files: [(path: String, content: String)], deploy: DeploySpec, repository: GitRepository,
                               message: String) throws -> Result {
        let branch = Self.branch(for: deploy)
        let changes = diff(files, deploy: deploy, repository: repository)
        let commit = try repository.commitFiles(files, branch: branch, message: message)
        return Result(branch: branch, kind: .branch, commit: commit, changes: changes)
    }

    /// How many objects a list of changes names (`+`, `-`, `~` lines; not their detail or `#` notes).
    public static func objectCount(_ changes: [String]) -> Int {
        changes.filter { $0.hasPrefix("+ ") || $0.hasPrefix("- ") || $0.hasPrefix("~ ") }.count
    }

    public static func message(_ facts: DeployFacts, action: String, runID: Int64?) -> String {
        "\(action) \(facts.model) version \(facts.version) to \(facts.environment)\n\n"
            + "Source commit: \(facts.commit)\nArtifact: \(facts.digest)\n"
            + (runID.map { "Sluice run: \($0)\n" } ?? "")
    }
}
