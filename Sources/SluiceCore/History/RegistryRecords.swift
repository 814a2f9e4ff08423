/// A model version known to the embedded registry: a gated candidate and its evidence.
public struct ModelVersionRecord: Codable, Sendable, Hashable {
    public var model: String
    public var version: String
    public var commit: String
    public var runId: Int64?
    /// The metrics file's JSON.
    public var metrics: String
    /// JSON object: dataset name -> version.
    public var datasetVersions: String
    public var artifactDigest: String?
    public var createdAt: Double

    public init(model: String, version: String, commit: String, runId: Int64?, metrics: String, datasetVersions: String,
                artifactDigest: String?, createdAt: Double) {
        self.model = model
        self.version = version
        self.commit = commit
        self.runId = runId
        self.metrics = metrics
        self.datasetVersions = datasetVersions
        self.artifactDigest = artifactDigest
        self.createdAt = createdAt
    }
}

/// One line of the append-only promotion log.
public struct PromotionRecord: Codable, Sendable, Hashable {
    public enum Action: String, Codable, Sendable { case promote, rollback }

    public var id: Int64?
    public var model: String
    /// The version in production after this entry.
    public var version: String
    public var action: Action
    public var commit: String
    public var runId: Int64?
    public var previousVersion: String?
    /// Who: `sluice run 12`, or the user named on the command line.
    public var actor: String
    public var reason: String
    public var createdAt: Double

    public init(model: String, version: String, action: Action, commit: String, runId: Int64?, previousVersion: String?,
                actor: String, reason: String, createdAt: Double) {
        self.model = model
        self.version = version
        self.action = action
        self.commit = commit
        self.runId = runId
        self.previousVersion = previousVersion
        self.actor = actor
        self.reason = reason
        self.createdAt = createdAt
    }
}

