/// The typed model of a repository's `sluice.yaml`. Built by `SpecDecoder`, which
/// reports every problem with its location; a `PipelineSpec` value is always valid.
public struct PipelineSpec: Hashable, Sendable {
    /// The file the spec was read from, as given to the decoder (e.g. `sluice.yaml`).
    public var file: String
    public var version: Int
    public var datasets: [DatasetSpec]
    /// In file order.
    public var stages: [StageSpec]
    public var gate: GateSpec?
    public var deploy: DeploySpec?
    /// How the controller keeps the environment in line with the rendered manifests.
    public var sync = SyncSpec()
    /// Where command stages run (`runner:`; default: here, as processes).
    public var runner = RunnerSpec()
    /// `environments:` in order, the last being production (whose deploy settings are also
    /// `deploy`); empty when the file uses the one-environment `deploy:`.
    public var environments: [EnvironmentSpec] = []
    /// `preview:`: merge requests' candidates deployed for review (nil: none).
    public var preview: PreviewSpec?
    /// `notify:`: routes of this repository's events to providers the controller defines.
    public var notify: [NotificationSettings.Route] = []
    /// The top-level `plots:` of the commit's `dvc.yaml` (`DVCPlots`): read from the workspace
    /// once every stage succeeded, stored as stage `dvc.yaml`'s plots.
    public var dvcPlots: [PlotSpec] = []

    /// The environments a version passes through before production (none with `deploy:`).
    public var preProduction: [EnvironmentSpec] { Array(environments.dropLast()) }

    public init(file: String, version: Int = 1, datasets: [DatasetSpec] = [], stages: [StageSpec],
                gate: GateSpec? = nil, deploy: DeploySpec? = nil, sync: SyncSpec = SyncSpec()) {
        self.file = file
        self.version = version
        self.datasets = datasets
        self.stages = stages
        self.gate = gate
        self.deploy = deploy
        self.sync = sync
    }

    public func stage(named name: String) -> StageSpec? { stages.first { $0.name == name } }
    public func dataset(named name: String) -> DatasetSpec? { datasets.first { $0.name == name } }
}

/// A named data source whose *version* triggers retraining when it changes.
public struct DatasetSpec: Hashable, Sendable {
    public enum Source: Hashable, Sendable {
        /// A file or folder in the repository; version = its git object id.
        case path(String)
        /// A DVC pointer file (`data/images.dvc`); version = the hash DVC recorded.
        case dvcPointer(String)
        /// A dependency or output recorded in a `dvc.lock` file; version = its hash there.
        case dvcLock(file: String, path: String)
    }

    public var name: String
    public var source: Source
    public var location: SourceLocation

    public init(name: String, source: Source, location: SourceLocation) {
        self.name = name
        self.source = source
        self.location = location
    }
}

/// One stage of the pipeline: a process to run, or a built-in action.
public struct StageSpec: Hashable, Sendable {
    public enum Command: Hashable, Sendable {
        /// `run: "pytest -q"`, run by `/bin/sh -c` exactly as the user wrote it.
        case shell(String)
        /// `run: [python, train.py]`, run directly with no shell.
        case argv([String])
    }

    /// Built-in actions selected with `uses:`.
    public enum Action: String, Hashable, Sendable, CaseIterable {
        case validateData = "validate-data"
    }

    public var name: String
    public var location: SourceLocation
    public var command: Command?
    public var uses: Action?
    /// Arguments of a built-in action, in file order.
    public var with: [KeyValue]
    public var needs: [String]
    /// nil: the stage runs on every commit.
    public var when: Trigger?
    public var env: [KeyValue]
    public var timeoutSeconds: Int?
    public var outputs: [String]
    public var metrics: String?
    /// Plots the stage writes the data of (`plots:`).
    public var plots: [PlotSpec] = []

    /// The files a stage's run hands back besides its outputs: its metrics and plot data.
    public var reportFiles: [String] { (metrics.map { [$0] } ?? []) + plots.map(\.file) }
    /// Parameter files (or `file:key.path` entries) whose resolved values feed the cache key.
    public var params: [ParamRef]
    public var cache: Bool
    /// Environment variables passed from the controller's environment; values masked.
    public var secrets: [String] = []
    /// Image, resources and placement on the Kubernetes runner.
    public var pod = PodSettings()

    public init(name: String, location: SourceLocation, command: Command? = nil, uses: Action? = nil,
                with: [KeyValue] = [], needs: [String] = [], when: Trigger? = nil, env: [KeyValue] = [],
                timeoutSeconds: Int? = nil, outputs: [String] = [], metrics: String? = nil,
                params: [ParamRef] = [], cache: Bool = true) {
        self.name = name
        self.location = location
        self.command = command
        self.uses = uses
        self.with = with
        self.needs = needs
        self.when = when
        self.env = env
        self.timeoutSeconds = timeoutSeconds
        self.outputs = outputs
        self.metrics = metrics
        self.params = params
        self.cache = cache
    }
}

public struct KeyValue: Hashable, Sendable, Codable {
    public var key: String
    public var value: String
    public init(_ key: String, _ value: String) {
        self.key = key
        self.value = value
    }
}

/// What makes a stage run: changed paths matching a glob, a dataset changing version, a
/// schedule, or a live metric crossing a threshold.
public struct Trigger: Hashable, Sendable {
    public var paths: [Glob]
    public var datasets: [String]
    /// Retrain on a clock (`every 24h`, or cron), evaluated when Sluice runs or watches.
    public var schedule: Schedule?
    /// Retrain when a live metric crosses a threshold (Prometheus).
    public var prometheus: MetricTrigger?
    public init(paths: [Glob] = [], datasets: [String] = [], schedule: Schedule? = nil, prometheus: MetricTrigger? = nil) {
        self.paths = paths
        self.datasets = datasets
        self.schedule = schedule
        self.prometheus = prometheus
    }
}

/// `params.yaml` (the whole file) or `params.yaml:train.lr` (one key path).
public struct ParamRef: Hashable, Sendable {
    public var file: String
    public var keyPath: String?
    public init(file: String, keyPath: String? = nil) {
        self.file = file
        self.keyPath = keyPath
    }
}

public struct GateSpec: Hashable, Sendable {
    public enum Registry: String, Hashable, Sendable { case embedded, mlflow }

    public var policy: String
    public var baseline: String
    /// The registered model's name (default: the repository's folder name).
    public var model: String?
    /// Where versions and the production marker live; MLflow's address comes from `MLFLOW_TRACKING_URI`.
    public var registry: Registry = .embedded
    /// The MLflow alias that marks production.
    public var alias: String = "champion"
    /// The only branch that promotes (default: the repository's default branch).
    public var branch: String?
    /// The stage output that is the model (`gate.artifact`), as declared; nil: `PipelineSpec.modelOutput` decides.
    public var artifact: String?
    /// The MLflow experiment that holds the candidates' runs (default: the model's name).
    public var experiment: String?
    /// Sign every registered candidate's model files (`gate.signing`).
    public var signing: Signing?
    public var location: SourceLocation

    /// The key that signs models: an ECDSA P-256 private key in PEM, from a file on the machine
    /// that runs Sluice or an environment variable (never from the repository).
    public struct Signing: Hashable, Sendable {
        public var keyFile: String?
        public var keyEnv: String?
        /// Recorded with the signature (`keyid`), to tell keys apart when rotating.
        public var keyID = ""
        public init() {}
    }
    public init(policy: String, baseline: String = "production", location: SourceLocation) {
        self.policy = policy
        self.baseline = baseline
        self.location = location
    }
}

public struct DeploySpec: Hashable, Sendable {
    public enum Target: String, Hashable, Sendable, Codable, CaseIterable {
        case branch, kubernetes
    }

    public var manifests: String
    public var target: Target
    public var environment: String
    public var namespace: String?
    /// kubeconfig context for the `kubernetes` target (default: the current context).
    public var context: String?
    /// Take over fields other managers own when applying (server-side apply `force`).
    public var force: Bool = false
    /// Whether Namespaces this environment no longer renders are deleted (`prune: { namespaces: true }`;
    /// never `namespace`, never one holding objects Sluice did not apply).
    public var pruneNamespaces: Bool = false
    /// How long a rollout may take to become healthy before it is rolled back.
    public var timeoutSeconds: Int = 600
    /// `require: { signature: true }`: a version is deployed here only when its model files, hashed
    /// again, match the signature the gate made; the key is `gate.signing`'s (set after decoding).
    public var requiresSignature = false
    public var signatureKey: GateSpec.Signing?
    /// Template values of this environment (`{{values.<key>}}` in manifests; `environments:` only).
    public var values: [KeyValue] = []
    /// The branch of the `branch` target (nil: `sluice/env/<environment>`); a preview's is its own.
    public var branch: String?
    public var location: SourceLocation

    public init(manifests: String, target: Target = .branch, environment: String = "production",
                namespace: String? = nil, location: SourceLocation) {
        self.manifests = manifests
        self.target = target
        self.environment = environment
        self.namespace = namespace
        self.location = location
    }
}

/// `sync:` — drift correction, as Argo CD's automated sync and Flux's interval: every
/// `interval` the controller compares the live environment with the production version's
/// rendered manifests, sets `InSync`, and with `selfHeal` applies them again.
public struct SyncSpec: Hashable, Sendable {
    public var intervalSeconds: Int = 300
    public var selfHeal = false
    public init(intervalSeconds: Int = 300, selfHeal: Bool = false) {
        self.intervalSeconds = intervalSeconds
        self.selfHeal = selfHeal
    }
}
