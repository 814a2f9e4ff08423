/// What Sluice remembers of runs, stages and their reports: plain values. The run store
/// (`SluiceStore`) persists them (see its Records.swift); the controller, the server and the CLI
/// read them.

/// Lifecycle of a run. `interrupted`: its controller died mid-run (found on the next
/// start, which queues a retry).
public enum RunStatus: String, Codable, Sendable, CaseIterable {
    case queued, running, succeeded, failed, cancelled, interrupted

    public var isFinished: Bool { self != .queued && self != .running }
}

public enum StageStatus: String, Codable, Sendable, CaseIterable {
    case pending, running, succeeded, failed, skipped, cached, cancelled, interrupted
    /// Could not run because a stage it needs failed.
    case blocked

    public var isFinished: Bool { self != .pending && self != .running }
    public var isSuccess: Bool { self == .succeeded || self == .cached || self == .skipped }
}

/// One pipeline run of one commit.
public struct RunRecord: Codable, Sendable, Hashable {
    public var id: Int64?
    public var repository: String
    public var ref: String?
    public var commit: String
    public var baseCommit: String?
    /// What started it, e.g. `commit`, `retry of run 7`, `dataset iris changed`.
    public var trigger: String
    public var status: RunStatus
    public var createdAt: Double
    public var startedAt: Double?
    public var finishedAt: Double?
    public var retryOf: Int64?
    public var message: String?
    /// The gate's verdict (`promote`, `reject`, `report-only`, `could-not-evaluate`), once gated.
    public var verdict: String?
    /// Whose cached results it may restore (`CacheScope.storedName`: `production`, `merge-request/7`, ...).
    public var cacheScope = "production"

    public init(repository: String, ref: String?, commit: String, baseCommit: String?, trigger: String,
                status: RunStatus = .queued, createdAt: Double, retryOf: Int64? = nil) {
        self.repository = repository
        self.ref = ref
        self.commit = commit
        self.baseCommit = baseCommit
        self.trigger = trigger
        self.status = status
        self.createdAt = createdAt
        self.retryOf = retryOf
    }
}

/// One stage of one run.
public struct StageResultRecord: Codable, Sendable, Hashable {
    public var runId: Int64
    public var stage: String
    public var status: StageStatus
    /// The planner's decision (`run`, `skip`, `cached`) and its reasons, joined by "; ".
    public var decision: String
    public var reasons: String
    public var cacheKey: String
    public var cacheHit: Bool
    public var exitCode: Int32?
    public var startedAt: Double?
    public var finishedAt: Double?
    public var logPath: String?
    /// The finished stage's log as archived in the artifact store (and its bucket): any replica,
    /// or a state folder that lost `logPath`, reads it from there.
    public var logDigest: String?
    /// The process group while running, so a restart can stop what a crash left behind.
    public var processGroup: Int32?
    /// The Kubernetes Job running the stage (`namespace/name`), so a restarted controller
    /// re-attaches to it instead of starting the stage again.
    public var runnerJob: String?
    /// The image a Kubernetes stage ran in, by digest (`repo@sha256:…`), for provenance.
    public var image: String?
    public var message: String?
    /// The run whose stored result this cached or skipped stage restored.
    public var cachedFrom: Int64?

    public init(runId: Int64, stage: String, status: StageStatus, decision: String, reasons: String, cacheKey: String) {
        self.runId = runId
        self.stage = stage
        self.status = status
        self.decision = decision
        self.reasons = reasons
        self.cacheKey = cacheKey
        self.cacheHit = false
    }
}

/// A stored output of a stage, and where it came from.
public struct ArtifactRecord: Codable, Sendable, Hashable {
    public var runId: Int64
    public var stage: String
    /// Path in the workspace, as declared in `outputs`.
    public var path: String
    /// `sha256:<hex>` of the file, or of the folder's manifest.
    public var digest: String
    public var kind: ArtifactKind
    public var size: Int64
    public var cacheKey: String
    public var commit: String
    /// JSON: commit, stage, cache key, dataset versions, parameters, run.
    public var lineage: String
    public var createdAt: Double

    public init(runId: Int64, stage: String, path: String, digest: String, kind: ArtifactKind, size: Int64,
                cacheKey: String, commit: String, lineage: String, createdAt: Double) {
        self.runId = runId
        self.stage = stage
        self.path = path
        self.digest = digest
        self.kind = kind
        self.size = size
        self.cacheKey = cacheKey
        self.commit = commit
        self.lineage = lineage
        self.createdAt = createdAt
    }
}

public enum ArtifactKind: String, Codable, Sendable {
    case file, directory
}

/// A metrics file or a data-validation report produced by a stage.
public struct ReportRecord: Codable, Sendable, Hashable {
    public var runId: Int64
    public var stage: String
    /// `metrics` or `validation`.
    public var kind: String
    public var path: String
    /// The content as JSON.
    public var content: String

    public init(runId: Int64, stage: String, kind: String, path: String, content: String) {
        self.runId = runId
        self.stage = stage
        self.kind = kind
        self.path = path
        self.content = content
    }
}
