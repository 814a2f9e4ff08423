import FoundationEssentials
public import SluiceCore
public import SluiceGit
public import SluiceRegistry
import SluiceRunner
public import SluiceStore

/// Plans, queues and runs commits against the run store: the part of `sluice run`
/// (and later the controller loop) that is not argument parsing.
public struct RunService: Sendable {
    public let stateDirectory: String
    public let store: RunStore
    public let runner: PipelineRunner

    /// With the artifact bucket the options' environment names, if any.
    public init(stateDirectory: String, options: PipelineRunner.Options) throws(RunStore.StoreError) {
        try self.init(stateDirectory: stateDirectory, options: options, store: RunStores.open(stateDirectory: stateDirectory, environment: options.environment))
    }

    /// With the run store in `database` (nil: the state folder's file) and the artifacts in
    /// `artifacts`' bucket (nil: the state folder only).
    public init(stateDirectory: String, options: PipelineRunner.Options, artifacts: ArtifactStorageSettings?,
                database: DatabaseSettings?) throws(RunStore.StoreError) {
        try self.init(stateDirectory: stateDirectory, options: options,
                      store: RunStores.open(stateDirectory: stateDirectory, artifacts: artifacts, database: database))
    }

    init(stateDirectory: String, options: PipelineRunner.Options, store: RunStore) {
        self.stateDirectory = stateDirectory
        self.store = store
        runner = PipelineRunner(stateDirectory: stateDirectory, store: store, options: options)
    }

    /// The registry a spec's gate names: the embedded one, or MLflow at `MLFLOW_TRACKING_URI`.
    public static func registry(for gate: GateSpec?, store: RunStore, environment: [String: String]) throws -> any ModelRegistry {
        guard let gate, gate.registry == .mlflow else { return EmbeddedRegistry(store: store) }
        guard let uri = environment["MLFLOW_TRACKING_URI"], !uri.isEmpty else {
            throw LoadError(message: "gate.registry is mlflow but MLFLOW_TRACKING_URI is not set",
                            hint: "export MLFLOW_TRACKING_URI=http://your-mlflow:5000")
        }
        return MLflowRegistry(trackingURI: uri, alias: gate.alias, environment: environment)
    }

    public func registry(for spec: PipelineSpec) throws -> any ModelRegistry {
        try Self.registry(for: spec.gate, store: store, environment: runner.options.environment)
    }

    /// How an environment chain runs a version's command checks: as Jobs when the version's
    /// `sluice.yaml` runs its stages on Kubernetes (with this Sluice's pod endpoint), else here.
    public func verifyPods(repositoryKey: String) -> @Sendable (RegisteredVersion, PipelineSpec) -> (@Sendable (StageSpec, String) async -> (passed: Bool, detail: String))? {
        let runner = self.runner
        return { version, spec in runner.verifyPod(runner: spec.runner, repositoryKey: repositoryKey, runID: version.runID, commit: version.commit) }
    }

    /// On start (and, for a leader, at each renewal): kills the stage processes of runs whose
    /// controller died and frees their workspaces, then marks them interrupted and queues a retry
    /// of each.
    /// - Parameter queuedBefore: when this controller began (its start, or its term as leader):
    ///   a run queued before then that nobody holds was left by a controller that stopped
    ///   between queuing and claiming it. nil (a command): running runs only.
    public func recover(queuedBefore: Double? = nil) throws(RunStore.StoreError) -> [RunStore.Interrupted] {
        // The workspaces of dead runs go first: when a full disk is what stopped a run, the space
        // they hold is what recording the interruption needs (their retries check out afresh).
        var owned: [Int64: Bool] = [:]
        for run in try store.runningRuns() {
            owned[run.id!] = try store.isRunOwned(run.id!)
            guard owned[run.id!] == false else { continue }
            LeftoverProcesses.kill(workspace: runner.workspace(of: run.id!))
            runner.removeWorkspace(of: run.id!)
        }
        if let queuedBefore {
            for run in try store.queuedRuns(before: queuedBefore) { owned[run.id!] = try store.isRunOwned(run.id!) }
        }
        // The leader asks at every renewal: nothing to write when every running run has its owner.
        guard owned.values.contains(false) else { return [] }
        // Only runs found unowned above: a run another process starts meanwhile is its own.
        return try store.recoverInterrupted(isOwned: { owned[$0] ?? true }, queuedBefore: queuedBefore, now: WallClock.now())
    }

    public enum Prepared: Sendable {
        /// The run to execute (new, or the queued retry of an interrupted run of the same commit and ref).
        case run(RunRecord, PipelineRunner.Work)
        /// Nothing to run: the commit has no usable spec.
        case noSpec(CommitPlanner.Outcome)
    }

    /// A commit's plan as a run of it would make it: cache hits from this store's scope, the data
    /// versions already trained on, schedules and metric triggers.
    public struct Planned: Sendable {
        public var outcome: CommitPlanner.Outcome
        public var scope: CacheScope
        /// Stages a schedule or a live metric asked to run, and why.
        public var fired: [String: String]
    }

    /// Plans `revision` (against `since`, else its parent) as `prepare` does, without queuing a
    /// run. `recover`: bring production back from the repository's record first when this store
    /// has none (a run does; `sluice plan` reads only).
    public func plan(repository: GitRepository, repositoryKey: String, revision: String, since: String?, ref: String?,
                     productionBranch: String? = nil, recover: Bool = true) throws -> Planned {
        var scope = CacheScope.other("detached")
        var cacheError: (any Error)?
        let known: (PipelineSpec) -> Set<String> = { spec in
            scope = CacheScope.of(ref: ref, productionBranch: ProductionBranch.name(configured: productionBranch, gateBranch: spec.gate?.branch,
                                                                                   defaultBranch: repository.defaultBranch))
            do { return try store.knownCacheKeys(repository: repositoryKey, scopes: scope.readable) } catch {
                cacheError = error
                return []
            }
        }
        let triggers = TriggerEvaluator(store: store, environment: runner.options.environment)
        var fired: [String: String] = [:]
        var trainedNote: String?
        let outcome = try CommitPlanner(repository: repository, runnerOverride: runner.options.runnerOverride,
                                    defaultImage: runner.options.environment["SLUICE_STAGE_IMAGE"].flatMap { $0.isEmpty ? nil : $0 }).plan(revision: revision, since: since, knownCacheKeys: known, trained: { spec in
            do {
                // The first use of production: a fresh state folder recovers it from git first.
                if recover, let recovered = try recoverProduction(spec: spec, repository: repository, repositoryKey: repositoryKey) { trainedNote = recovered }
                return try trainedData(spec: spec, repositoryKey: repositoryKey)
            } catch {
                trainedNote = "production and earlier candidates could not be read (\(error)); datasets are compared with the base commit only"
                return nil
            }
        }) { spec in
            let result = triggers.evaluate(spec, repositoryKey: repositoryKey, now: WallClock.now())
            fired = result.triggered
            return result
        }
        if let cacheError { throw cacheError }
        var planned = Planned(outcome: outcome, scope: scope, fired: fired)
        if let trainedNote { planned.outcome.plan?.notes.append(trainedNote) }
        return planned
    }

    /// Plans `revision` and queues a run for it, or picks up a queued retry of the same commit.
    /// - Parameter productionBranch: the configured production branch (nil: the spec's
    ///   `gate.branch`, else the repository's default branch); decides the run's cache scope.
    public func prepare(repository: GitRepository, repositoryKey: String, revision: String, since: String?, ref: String?,
                        trigger: String, productionBranch: String? = nil) throws -> Prepared {
        let planned = try plan(repository: repository, repositoryKey: repositoryKey, revision: revision, since: since, ref: ref,
                               productionBranch: productionBranch)
        let (outcome, scope, fired) = (planned.outcome, planned.scope, planned.fired)
        guard let plan = outcome.plan, let spec = outcome.spec else { return .noSpec(outcome) }
        var work = PipelineRunner.Work(repositoryKey: repositoryKey, spec: spec, plan: plan, ref: ref,
                                       datasetVersions: outcome.datasetVersions, parameters: outcome.parameters)
        work.cacheScope = scope
        // Warnings about the spec and dvc.yaml (a plot Sluice cannot draw) go with the run's notes.
        work.plan.notes += outcome.diagnostics.filter { $0.severity == .warning }.map(DiagnosticRenderer.line)
        do {
            work.referenceData = try productionData(spec: spec, repository: repository, repositoryKey: repositoryKey)
        } catch {
            // The stages can still run; drift is then not measured and the gate will fail closed.
            work.plan.notes.append("the production model's data could not be found for drift (\(error))")
        }
        // Only a crash's retry is picked up, and only for its own ref: the same commit can be
        // queued at once by the production branch and a merge request, each its own run.
        if let retry = try store.queuedRuns(repository: repositoryKey).first(where: {
            $0.retryOf != nil && $0.commit == plan.commit && ($0.ref == nil || ref == nil || $0.ref == ref)
        }) {
            return .run(retry, work)
        }
        // The run records what started it: the command, and any schedule or metric that fired.
        let cause = ([trigger] + fired.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }).joined(separator: "; ")
        return .run(try runner.enqueue(work, trigger: cause, now: WallClock.now()), work)
    }

    /// The embedded registry's production, recovered from the repository's promotion record
    /// when this state folder has none (MLflow keeps its own). Returns a note when it did.
    func recoverProduction(spec: PipelineSpec, repository: GitRepository, repositoryKey: String) throws -> String? {
        guard let gate = spec.gate, gate.registry != .mlflow else { return nil }
        return try PromotionHistory.recover(model: GateService.modelName(spec, repositoryKey: repositoryKey), store: store, repository: repository)
    }

    /// The dataset versions the production model and every gated candidate were trained on
    /// (nil without a gate: then only the base commit counts).
    func trainedData(spec: PipelineSpec, repositoryKey: String) throws -> [ChangeFacts.TrainedData]? {
        guard spec.gate != nil else { return nil }
        let gate = try gateService(for: spec)
        var trained = try gate.gatedReports(repositoryKey: repositoryKey).map {
            ChangeFacts.TrainedData(label: "run \($0.run)'s candidate (\($0.decision.rawValue))", datasetVersions: $0.datasetVersions)
        }
        if let production = try Promotion(store: store, registry: gate.registry).production(model: GateService.modelName(spec, repositoryKey: repositoryKey)).version {
            trained.append(ChangeFacts.TrainedData(label: "production version \(production.version)", datasetVersions: production.datasetVersions))
        }
        return trained
    }

    /// Drift is measured against the data that trained the production model: each
    /// validate-data stage's data file as of the production commit, copied out of git.
    func productionData(spec: PipelineSpec, repository: GitRepository, repositoryKey: String) throws -> (@Sendable (String, String) -> ReferenceData?)? {
        guard spec.gate != nil else { return nil }
        let model = GateService.modelName(spec, repositoryKey: repositoryKey)
        guard let production = try Promotion(store: store, registry: try registry(for: spec)).production(model: model).version else { return nil }
        let commit: GitCommit
        do { commit = try repository.commit(production.commit) } catch {
            let reason = "the production model's commit \(CommitID(production.commit).short) is not in the repository (\(error))"
            return { _, _ in .unavailable(reason: reason) }
        }
        let finder = ReferenceDataFinder(stateDirectory: stateDirectory, spec: spec, commit: commit, version: production.version,
                                         repositoryPath: repository.path, repositoryLocation: repositoryKey, environment: runner.options.environment)
        return { data, workspace in finder.find(data, workspace: workspace) }
    }

    /// The gate service over the registry `spec` names.
    public func gateService(for spec: PipelineSpec) throws -> GateService {
        GateService(store: store, registry: try registry(for: spec), environment: runner.options.environment)
    }
}
