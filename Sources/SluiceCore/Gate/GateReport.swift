/// Everything a reviewer needs to judge a candidate: the verdict, each metric against
/// production under the policy, the data checks, stage timings, lineage, and what
/// deploying would change. Stored as JSON with the run; rendered by `GateReportMarkdown`.
public struct GateReport: Hashable, Sendable, Codable {
    /// The report's verdict: decided by `Verdict.decide`.
    public typealias Decision = Verdict

    public struct MetricRow: Hashable, Sendable, Codable {
        public var metric: String
        public var slice: String?
        public var candidate: Double?
        public var production: Double?
        public var delta: Double?
        public var rule: String
        public var passed: Bool
        public var reason: String
        /// The rule's fixed bounds, and the value production's change bound asked for (its
        /// first amount: production − tolerance, or production + improvement), for charts.
        public var min: Double?
        public var max: Double?
        public var productionBound: Double?

        public init(metric: String, slice: String?, candidate: Double?, production: Double?, delta: Double?, rule: String, passed: Bool,
                    reason: String) {
            self.metric = metric
            self.slice = slice
            self.candidate = candidate
            self.production = production
            self.delta = delta
            self.rule = rule
            self.passed = passed
            self.reason = reason
        }
    }

    public struct DataCheck: Hashable, Sendable, Codable {
        public var stage: String
        public var validation: ValidationReport
        public init(stage: String, validation: ValidationReport) {
            self.stage = stage
            self.validation = validation
        }
    }

    public struct StageTiming: Hashable, Sendable, Codable {
        public var stage: String
        public var status: String
        public var seconds: Double?
        public init(stage: String, status: String, seconds: Double?) {
            self.stage = stage
            self.status = status
            self.seconds = seconds
        }
    }

    public struct Artifact: Hashable, Sendable, Codable {
        public var stage: String
        public var path: String
        public var digest: String
        public var size: Int64
        public init(stage: String, path: String, digest: String, size: Int64) {
            self.stage = stage
            self.path = path
            self.digest = digest
            self.size = size
        }
    }

    public struct Production: Hashable, Sendable, Codable {
        public var version: String
        public var commit: String
        public var promotedAt: Double
        public init(version: String, commit: String, promotedAt: Double) {
            self.version = version
            self.commit = commit
            self.promotedAt = promotedAt
        }
    }

    public var model: String
    public var repository: String
    public var ref: String?
    public var commit: String
    public var run: Int64
    public var policy: String
    public var decision: Decision
    /// Whether every rule and data check passed (for report-only runs too).
    public var passed: Bool
    public var production: Production?
    public var metrics: [MetricRow]
    public var dataChecks: [DataCheck]
    public var stages: [StageTiming]
    public var datasetVersions: [String: String]
    public var parameters: [String: String]
    public var artifacts: [Artifact]
    /// What deploying this candidate would change (filled in by the deploy step).
    public var deployChanges: [String]?
    public var notes: [String]
    /// The policy file's content hash as committed (`sha256:…`): a model gated under one policy
    /// is gated again under a changed one (reports written before it have none).
    public var policyDigest: String?
    /// What decided the verdict besides the rules (`Verdict.Decision.overriding`).
    public var overriding: String?

    public init(model: String, repository: String, ref: String?, commit: String, run: Int64, policy: String, decision: Decision,
                passed: Bool, production: Production?, metrics: [MetricRow], dataChecks: [DataCheck], stages: [StageTiming],
                datasetVersions: [String: String], parameters: [String: String], artifacts: [Artifact],
                deployChanges: [String]? = nil, notes: [String]) {
        self.model = model
        self.repository = repository
        self.ref = ref
        self.commit = commit
        self.run = run
        self.policy = policy
        self.decision = decision
        self.passed = passed
        self.production = production
        self.metrics = metrics
        self.dataChecks = dataChecks
        self.stages = stages
        self.datasetVersions = datasetVersions
        self.parameters = parameters
        self.artifacts = artifacts
        self.deployChanges = deployChanges
        self.notes = notes
    }

    /// Rules passed and no data check failed.
    public static func passes(_ rows: [MetricRow], _ data: [DataCheck]) -> Bool {
        rows.allSatisfy(\.passed) && data.allSatisfy { $0.validation.verdict != .fail }
    }

    /// The hidden marker that finds Sluice's comment on a merge request to update it in place.
    public static let commentMarker = "<!-- sluice-gate-report -->"
}

extension GateReport {
    /// The rules a reader sees first: those that failed (at most `limit`), else, when every
    /// rule passed, the first ones.
    public func decidingRows(limit: Int = 2) -> [MetricRow] {
        let failed = metrics.filter { !$0.passed }
        return Array((failed.isEmpty ? metrics : failed).prefix(limit))
    }

    /// One deciding rule in words: "accuracy [class=a] = 0.81 (production 0.90): below the minimum 0.85".
    public static func sentence(_ row: MetricRow) -> String {
        let name = row.slice.map { "\(row.metric) [\($0)]" } ?? row.metric
        let (candidate, production) = GateReportMarkdown.aligned(row.candidate, row.production)
        return "\(name) = \(candidate)" + (row.production == nil ? "" : " (production \(production))") + ": \(row.reason)"
    }
}
