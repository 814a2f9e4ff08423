import FoundationEssentials
public import SluiceCore

/// What a run's deploy did, stored with the run (report kind `deploy`): the web UI shows its
/// manifest diff, and `/metrics` derives deploy durations and commit-to-deployed latency.
public struct DeploymentReport: Codable, Sendable, Hashable {
    public static let kind = "deploy"

    public var model: String
    public var version: String
    public var environment: String
    /// The environment branch, or `kubernetes:<context>`.
    public var target: String
    /// The new commit on the environment branch (nil when nothing changed, or on Kubernetes).
    public var commit: String?
    /// The manifest diff (`+`/`-`/`~` lines).
    public var changes: [String]
    public var pruned: [String]
    /// False when the rollout never became healthy (Kubernetes), or the apply failed.
    public var succeeded: Bool
    public var failure: String?
    public var startedAt: Double
    public var finishedAt: Double
    /// The committer time of the source commit: `finishedAt - committedAt` is the
    /// commit-to-deployed latency.
    public var committedAt: Double

    public init(model: String, version: String, environment: String, target: String, commit: String?, changes: [String], pruned: [String],
                succeeded: Bool, failure: String?, startedAt: Double, finishedAt: Double, committedAt: Double) {
        self.model = model
        self.version = version
        self.environment = environment
        self.target = target
        self.commit = commit
        self.changes = changes
        self.pruned = pruned
        self.succeeded = succeeded
        self.failure = failure
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.committedAt = committedAt
    }

    public func record(runID: Int64) throws -> ReportRecord {
        let json = String(decoding: try JSONEncoder().encode(self), as: UTF8.self)
        return ReportRecord(runId: runID, stage: "deploy", kind: Self.kind, path: target, content: json)
    }

    public static func decode(_ record: ReportRecord) throws -> DeploymentReport {
        try JSONDecoder().decode(DeploymentReport.self, from: Data(record.content.utf8))
    }
}
