public import SluiceCore

/// A version of a model as a registry knows it.
public struct RegisteredVersion: Hashable, Sendable, Codable {
    public var model: String
    public var version: String
    public var commit: String
    public var runID: Int64?
    public var metrics: MetricSet
    public var datasetVersions: [String: String]
    public var artifactDigest: String?

    public init(model: String, version: String, commit: String, runID: Int64?, metrics: MetricSet,
                datasetVersions: [String: String], artifactDigest: String?) {
        self.model = model
        self.version = version
        self.commit = commit
        self.runID = runID
        self.metrics = metrics
        self.datasetVersions = datasetVersions
        self.artifactDigest = artifactDigest
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
    public init(_ description: String) { self.description = description }
}

/// Where model versions and the production marker live. The promotion log itself is
/// always Sluice's own (append-only, in the run store); a registry answers "what is in
/// production" and records versions.
public protocol ModelRegistry: Sendable {
    /// `embedded` or `mlflow`, for reports.
    var kind: String { get }
    /// The version in production, or nil before the first promotion.
    func production(model: String) throws(RegistryError) -> RegisteredVersion?
    /// Records a candidate as a new version.
    func register(_ candidate: Candidate) throws(RegistryError) -> RegisteredVersion
    func version(model: String, version: String) throws(RegistryError) -> RegisteredVersion?
    /// Marks `version` as production (MLflow: moves the alias). Called before the log entry is written.
    func setProduction(model: String, version: String) throws(RegistryError)
}
