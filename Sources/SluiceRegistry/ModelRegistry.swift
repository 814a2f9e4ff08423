public import SluiceCore
public import SluiceStore

/// A version of a model as a registry knows it.
public struct RegisteredVersion: Hashable, Sendable, Codable {
    public var model: String
    public var version: String
    public var commit: String
    public var runID: Int64?
    public var metrics: MetricSet
    public var datasetVersions: [String: String]
    public var artifactDigest: String?
    /// Where the registry's clients load the model's files from (MLflow: the run's artifact
    /// URI); nil when the files stay in Sluice's own store.
    public var source: String?
    /// The registry's record of the training (MLflow: the run id).
    public var trackingRun: String?

    public init(model: String, version: String, commit: String, runID: Int64?, metrics: MetricSet,
                datasetVersions: [String: String], artifactDigest: String?, source: String? = nil, trackingRun: String? = nil) {
        self.model = model
        self.version = version
        self.commit = commit
        self.runID = runID
        self.metrics = metrics
        self.datasetVersions = datasetVersions
        self.artifactDigest = artifactDigest
        self.source = source
        self.trackingRun = trackingRun
    }
}

/// The output that is the model, as Sluice stored it: what a registry that keeps the model's
/// files (MLflow) uploads.
public struct ModelFiles: Sendable {
    /// The output's path without a trailing slash (`model`).
    public var output: String
    /// The output's digest (of its manifest, for a folder).
    public var digest: String
    public var isDirectory: Bool
    public var files: [ArtifactStore.StoredFile]

    public init(output: String, digest: String, isDirectory: Bool, files: [ArtifactStore.StoredFile]) {
        self.output = output
        self.digest = digest
        self.isDirectory = isDirectory
        self.files = files
    }

    /// The name the files are stored under in the registry: the output's last path component.
    public var name: String { output.split(separator: "/").last.map(String.init) ?? output }
    /// An MLflow model directory (MLflow clients load it as a pyfunc model).
    public var isMLflowModel: Bool { isDirectory && files.contains { $0.path == "MLmodel" } }
}

/// A registered candidate, with what the registry wants said in the gate report.
public struct Registration: Sendable {
    public var version: RegisteredVersion
    public var notes: [String]
    public init(version: RegisteredVersion, notes: [String] = []) {
        self.version = version
        self.notes = notes
    }
}

/// A gated candidate, before it has a version.
public struct Candidate: Sendable {
    public var model: String
    public var commit: String
    public var runID: Int64
    public var metrics: MetricSet
    /// The metrics file as the stage wrote it (JSON).
    public var metricsJSON: String
    public var datasetVersions: [String: String]
    public var parameters: [String: String]
    public var artifactDigest: String?
    /// The model's files (nil: the run stored no model output).
    public var modelFiles: ModelFiles?
    /// The OpenSSF model-signing bundle of `modelFiles` (`gate.signing`), kept next to them.
    public var signature: String?
    /// Where the candidate came from, for the registry's record of it.
    public var repository: String = ""
    public var ref: String?
    /// The run's page on the controller's web UI, when it has an address.
    public var runURL: String?
    /// The MLflow experiment (default: the model's name).
    public var experiment: String?

    public init(model: String, commit: String, runID: Int64, metrics: MetricSet, metricsJSON: String,
                datasetVersions: [String: String], parameters: [String: String], artifactDigest: String?) {
        self.model = model
        self.commit = commit
        self.runID = runID
        self.metrics = metrics
        self.metricsJSON = metricsJSON
        self.datasetVersions = datasetVersions
        self.parameters = parameters
        self.artifactDigest = artifactDigest
    }
}

public struct RegistryError: Error, Sendable, CustomStringConvertible {
    public var description: String
    /// The registry's own error code, when it gave one (MLflow: `RESOURCE_DOES_NOT_EXIST`, ...).
    public var code: String?
    public init(_ description: String, code: String? = nil) {
        self.description = description
        self.code = code
    }
}

/// Where model versions and the production marker live. The promotion log itself is
/// always Sluice's own (append-only, in the run store); a registry answers "what is in
/// production" and records versions.
public protocol ModelRegistry: Sendable {
    /// `embedded` or `mlflow`, for reports.
    var kind: String { get }
    /// The version in production, or nil before the first promotion.
    func production(model: String) throws(RegistryError) -> RegisteredVersion?
    /// Records a candidate as a new version. Either the whole version exists afterwards or,
    /// when this throws, none.
    func register(_ candidate: Candidate) throws(RegistryError) -> Registration
    func version(model: String, version: String) throws(RegistryError) -> RegisteredVersion?
    /// Marks `version` as production (MLflow: moves the alias). Called only by `Promotion`, after
    /// the promotion log took the entry, with whatever version the log names then.
    func setProduction(model: String, version: String) throws(RegistryError)
    /// Records the gate's verdict on a registered candidate (MLflow: a tag on the version and its run).
    func record(verdict: String, of version: RegisteredVersion) throws(RegistryError)
    /// The version's files as the registry serves them now, each hashed (nil: the registry
    /// serves Sluice's own artifact store).
    func servedFiles(of version: RegisteredVersion) throws(RegistryError) -> [ModelSignature.File]?
}

extension ModelRegistry {
    public func servedFiles(of version: RegisteredVersion) throws(RegistryError) -> [ModelSignature.File]? { nil }

    /// The embedded registry keeps verdicts with the gate reports already.
    public func record(verdict: String, of version: RegisteredVersion) throws(RegistryError) {}
}
