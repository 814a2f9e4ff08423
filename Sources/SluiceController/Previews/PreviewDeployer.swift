import FoundationEssentials
public import SluiceCore
public import SluiceGit
import SluiceRegistry
public import SluiceStore

/// Deploys a merge request's candidate as its preview, with the settings of the environment
/// `preview.environment` names, and deletes previews. A preview is its own inventory scope
/// (`preview-<number>`), so deleting it deletes exactly what Sluice applied there, the Namespace
/// last. It never writes the registry, the promotion log or any environment's deployed version.
public struct PreviewDeployer: Sendable {
    public let store: RunStore
    /// Sluice's environment (`KUBECONFIG`, `PROMETHEUS_URL`; what checks inherit).
    public let environment: [String: String]
    public let stateDirectory: String
    /// Runs a command check as a Kubernetes Job (the pipeline's runner is `kubernetes`).
    public var pod: (@Sendable (StageSpec, String) async -> (passed: Bool, detail: String))?

    public init(store: RunStore, environment: [String: String], stateDirectory: String) {
        self.store = store
        self.environment = environment
        self.stateDirectory = stateDirectory
    }

    /// One merge request's candidate to preview.
    public struct Request: Sendable {
        /// The repository's name in the controller's configuration (the namespace pattern's `{{repository}}`).
        public var repositoryName: String
        public var repositoryKey: String
        public var number: Int
        public var ref: String
        public var run: RunRecord
        public var spec: PipelineSpec
        public var preview: PreviewSpec
        public var model: String
        public var datasetVersions: [String: String]

        public init(repositoryName: String, repositoryKey: String, number: Int, ref: String, run: RunRecord, spec: PipelineSpec,
                    preview: PreviewSpec, model: String, datasetVersions: [String: String]) {
            (self.repositoryName, self.repositoryKey, self.number, self.ref) = (repositoryName, repositoryKey, number, ref)
            (self.run, self.spec, self.preview, self.model, self.datasetVersions) = (run, spec, preview, model, datasetVersions)
        }
    }

    public struct Outcome: Sendable {
        public var record: RunStore.Preview
        public var url: String?
        public var checks: [EnvironmentChecks.Result] = []
        /// Previews removed to stay within `preview.max` (the oldest first), each to be told.
        public var evicted: [(preview: RunStore.Preview, removal: Removal)] = []
        /// Refs deleted on the way (an evicted or moved preview's branch), to delete on a remote too.
        public var deletedRefs: [String] = []
    }

    /// What deleting a preview removed, in words, and the refs it deleted.
    public struct Removal: Sendable {
        public var said: String
        public var deletedRefs: [String]
    }

    /// Deploys (or replaces) the preview, waits for it to be healthy and runs the environment's checks there.
    public func deploy(_ r: Request, repository: GitRepository, say: @escaping @Sendable (String) -> Void) async throws -> Outcome {
        let (settings, checks) = try Self.environment(r.preview.environment, in: r.spec)
        let commit = try repository.commit(r.run.commit)
        var deploy = settings
        deploy.environment = RunStore.Preview.scope(number: r.number)
        let url = r.preview.url(number: r.number)
        if let url { deploy.values = deploy.values.filter { $0.key != "url" } + [KeyValue("url", url)] }
        let place: String
        switch deploy.target {
        case .kubernetes:
            place = r.preview.namespace(repository: r.repositoryName, number: r.number)
            deploy.namespace = place
            deploy.pruneNamespaces = true  // the preview's own Namespace goes with it
        case .branch:
            place = PreviewSpec.branch(number: r.number)
            deploy.branch = place
        }
        let artifacts = try store.artifacts(of: r.run.id!)
        let candidate = RegisteredVersion(model: r.model, version: "pr-\(r.number)", commit: r.run.commit, runID: r.run.id, metrics: MetricSet(),
                                          datasetVersions: r.datasetVersions,
                                          artifactDigest: CandidateModel.artifact(spec: r.spec, in: artifacts)?.digest)
        var facts = DeployService.facts(for: candidate, deploy: deploy, registryKind: "preview")
        facts.preview = DeployFacts.Preview(number: r.number, url: url)
        var objects = try ManifestRenderer.render(commit: commit, deploy: deploy, facts: facts, environment: environment)
        if deploy.target == .kubernetes {
            objects = try Self.confined(objects, to: place)
                + ManifestRenderer.render(PreviewGuards.yaml(namespace: place, number: r.number, preview: r.preview), file: "(preview guards)",
                                          deploy: deploy, facts: facts)
        }

        let now = WallClock.now()
        var evicted: [(preview: RunStore.Preview, removal: Removal)] = []
        var deletedRefs: [String] = []
        let others = try store.previews(repository: r.repositoryKey).filter { $0.number != r.number }
        for old in others.prefix(max(0, others.count - r.preview.max + 1)) {
            say("preview of merge request \(old.number) removed: at most \(r.preview.max) previews run at once (preview.max)")
            let removal = try delete(old, repository: repository, say: say)
            evicted.append((old, removal))
            deletedRefs += removal.deletedRefs
        }
        let existing = try store.preview(repository: r.repositoryKey, number: r.number)
        if let existing, existing.place != place || existing.target != deploy.target.rawValue {
            // The pattern or target changed: the old one goes.
            deletedRefs += try delete(existing, repository: repository, say: say).deletedRefs
        }
        var record = RunStore.Preview(repository: r.repositoryKey, number: r.number, ref: r.ref, commit: r.run.commit, runId: r.run.id,
                                      target: deploy.target.rawValue, place: place, context: deploy.context, environment: settings.environment,
                                      state: .deploying, detail: "deploying", createdAt: existing?.createdAt ?? now, updatedAt: now,
                                      expiresAt: now + Double(r.preview.ttlSeconds))
        // Recorded before anything is applied: a process killed meanwhile leaves a record the reconciler cleans up.
        try store.savePreview(record)
        try store.requireLeadership(for: "deploying the preview of merge request \(r.number)")
        let target = try DeployTargets.make(deploy, repository: repository, store: store, environment: environment)
        let written = try target.write(objects, facts: facts, action: "Preview", wait: true, progress: say)
        var outcome = Outcome(record: record, url: url, evicted: evicted, deletedRefs: deletedRefs)
        if written.healthy == false {
            record.state = .failed
            record.detail = "not healthy: \(written.failure ?? "the rollout did not complete")"
        } else {
            var runner = EnvironmentChecks(environment: environment, stateDirectory: stateDirectory, store: store)
            runner.pod = pod
            let production = try Baselines.production(model: r.model, spec: r.spec, store: store)
            outcome.checks = await runner.run(checks, model: r.model, version: candidate.version, commit: commit, deploy: deploy,
                                              modelDigest: candidate.artifactDigest, runID: r.run.id, baselines: Baselines(production: production), say: say)
            let bad = outcome.checks.first { $0.verdict != .passed }
            record.state = bad == nil ? .ready : .failed
            record.detail = outcome.checks.isEmpty ? "healthy; no checks" : outcome.checks.map { "\($0.check) \($0.verdict.rawValue)" }.joined(separator: ", ")
        }
        try store.savePreview(record)
        outcome.record = record
        return outcome
    }

    /// Deletes everything the preview applied (the namespace last) or its branch, and its record.
    public func delete(_ preview: RunStore.Preview, repository: GitRepository, say: (String) -> Void) throws -> Removal {
        guard let target = DeploySpec.Target(rawValue: preview.target) else {
            throw LoadError(message: "the preview of merge request \(preview.number) names an unknown target '\(preview.target)'")
        }
        // The preview's own scope, without a namespace of its own to keep: its Namespace goes too.
        var deploy = DeploySpec(manifests: "", target: target, environment: RunStore.Preview.scope(number: preview.number),
                                location: SourceLocation(file: CommitPlanner.specFile, line: 0, column: 0))
        deploy.context = preview.context
        deploy.pruneNamespaces = true
        deploy.branch = target == .branch ? preview.place : nil
        try store.requireLeadership(for: "removing the preview of merge request \(preview.number)")
        let removed = try DeployTargets.make(deploy, repository: repository, store: store, environment: environment).removeAll(progress: say)
        say("preview of merge request \(preview.number) in \(preview.place): \(removed.said)")
        try store.deletePreview(repository: preview.repository, number: preview.number)
        return Removal(said: removed.said, deletedRefs: removed.deletedRefs)
    }

    /// The deploy settings and checks of the environment a preview copies.
    static func environment(_ name: String, in spec: PipelineSpec) throws -> (DeploySpec, [VerifyCheck]) {
        if let env = spec.environments.first(where: { $0.name == name }) { return (env.deploy, env.verify) }
        if let deploy = spec.deploy, deploy.environment == name { return (deploy, []) }
        throw LoadError(message: "preview.environment names '\(name)', which this commit's \(CommitPlanner.specFile) does not declare")
    }

    /// Every object in the preview's namespace: a namespaced object that names another is moved
    /// into it; a cluster-scoped one is refused (it would be shared with every environment).
    static func confined(_ objects: [ManifestObject], to namespace: String) throws -> [ManifestObject] {
        try objects.map { o in
            guard o.namespace != nil else {
                throw LoadError(message: "\(o.displayName) (\(o.source)) is cluster-scoped: a preview applies only objects in its own namespace",
                                hint: "render it only outside previews, e.g. {{^preview.number}}...{{/preview.number}}")
            }
            var moved = o
            if o.namespace != namespace {
                moved.namespace = namespace
                moved.node = o.node.setting(["metadata", "namespace"], to: namespace)
            }
            return moved
        }
    }
}
