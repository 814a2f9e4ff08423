import Crypto

/// Something the people who own a model should hear about, where they work (Slack, Teams,
/// Google Chat, a webhook, a CloudEvents bus). Recorded in the run store in the same
/// transaction as its cause (the verdict, the environment step, the condition), then delivered
/// by the controller's sender to each provider a route names. Its `id` is derived from the cause,
/// so recording it twice (a retried write, a re-gated run) keeps one event, and a receiver can
/// de-duplicate on it.
public struct NotificationEvent: Hashable, Sendable, Codable {
    public enum Kind: String, CaseIterable, Hashable, Sendable, Codable {
        case runFailed = "run.failed"
        case gatePromoted = "gate.promoted"
        case gateRejected = "gate.rejected"
        case gateCouldNotEvaluate = "gate.could-not-evaluate"
        case environmentEntered = "environment.entered"
        case environmentVerified = "environment.verified"
        case environmentCheckFailed = "environment.check-failed"
        case environmentWaitingForApproval = "environment.waiting-for-approval"
        case environmentPromoted = "environment.promoted"
        case canaryStep = "canary.step"
        case canaryAborted = "canary.aborted"
        case deployFailed = "deploy.failed"
        case deployRolledBack = "deploy.rolled-back"
        case driftDetected = "drift.detected"
        case driftHealed = "drift.healed"
        case repositoryQuarantined = "repository.quarantined"
        case sourceUnverified = "source.unverified"
        case dataDrift = "data.drift"

        public var severity: Severity {
            switch self {
            case .gatePromoted, .environmentEntered, .environmentVerified, .environmentPromoted, .canaryStep, .driftHealed: .info
            case .gateRejected, .environmentWaitingForApproval, .driftDetected, .dataDrift: .warning
            case .runFailed, .gateCouldNotEvaluate, .environmentCheckFailed, .canaryAborted, .deployFailed, .deployRolledBack,
                 .repositoryQuarantined, .sourceUnverified: .error
            }
        }

        /// When it is sent, for the reference table.
        public var summary: String {
            switch self {
            case .runFailed: "a production-branch run failed (the stage and its last lines)"
            case .gatePromoted: "a candidate passed the gate and was promoted (or entered the first environment)"
            case .gateRejected: "a candidate was rejected (the failing rules, candidate against production)"
            case .gateCouldNotEvaluate: "the gate could not be evaluated; nothing was promoted"
            case .environmentEntered: "a version was deployed into an environment of the chain"
            case .environmentVerified: "a version's checks passed in an environment"
            case .environmentCheckFailed: "a deploy or check failed in an environment: the chain stops there"
            case .environmentWaitingForApproval: "a version waits for `sluice approve` into a `promote: manual` environment (with the approve link)"
            case .environmentPromoted: "a version reached the last environment: it is in production"
            case .canaryStep: "a canary step set its traffic weight"
            case .canaryAborted: "a canary's analysis failed: the stable version serves again"
            case .deployFailed: "a deploy failed, or its workloads did not become ready"
            case .deployRolledBack: "a deploy that did not become healthy was rolled back"
            case .driftDetected: "the live environment differs from the version's manifests"
            case .driftHealed: "drift was corrected (`sync.selfHeal`)"
            case .repositoryQuarantined: "a commit was quarantined: the controller stopped while running it too often"
            case .sourceUnverified: "a commit on the production branch is not signed by a trusted key (`verify:`): nothing of it runs"
            case .dataDrift: "a production-branch run's data drifted beyond a warn or fail threshold"
            }
        }
    }

    public enum Severity: String, CaseIterable, Hashable, Sendable, Codable, Comparable {
        case info, warning, error
        public static func < (a: Severity, b: Severity) -> Bool { a.rank < b.rank }
        private var rank: Int { self == .info ? 0 : self == .warning ? 1 : 2 }
    }

    public var id: String
    public var kind: Kind
    /// Seconds since 1970 (UTC).
    public var time: Double
    /// The repository's `name` in the controller configuration.
    public var repository: String
    /// Its URL, without credentials (the CloudEvents `source`).
    public var repositoryURL: String
    public var model: String?
    public var version: String?
    public var environment: String?
    public var run: Int64?
    public var commit: String?
    public var severity: Severity
    /// The page that explains it, relative to the web UI (`/runs/42`); made absolute when sent.
    public var link: String
    /// One line, the outcome first: "iris: candidate of run 42 rejected: accuracy = 0.81 (production 0.9): ...".
    public var title: String
    /// What a reader needs next (failing rules, drifted columns, a stage's last lines); masked and bounded.
    public var details: [String]
    /// Providers the repository's own `notify:` routes chose for it (besides the controller's
    /// routes); optional so that an event stored without it still reads.
    public var repositoryProviders: [String]?

    public init(kind: Kind, cause: [String], time: Double, repository: String, repositoryURL: String, model: String? = nil,
                version: String? = nil, environment: String? = nil, run: Int64? = nil, commit: String? = nil,
                link: String, title: String, details: [String] = []) {
        self.id = Self.id(kind: kind, repository: repository, cause: cause)
        self.kind = kind
        self.time = time
        self.repository = repository
        self.repositoryURL = RepositoryURL.withoutCredentials(repositoryURL)
        self.model = model
        self.version = version
        self.environment = environment
        self.run = run
        self.commit = commit
        self.severity = kind.severity
        self.link = link
        let masker = SecretMasker()
        self.title = Self.bounded(masker.mask(title), to: Self.titleLimit)
        self.details = Array(details.prefix(Self.detailLimit)).map { Self.bounded(masker.mask($0), to: Self.detailLineLimit) }
    }

    public static let titleLimit = 300
    public static let detailLimit = 20
    public static let detailLineLimit = 500

    /// The same cause always gives the same id: 32 hex digits of SHA-256 over the kind, the
    /// repository and what identifies the cause (a run id, a step id, a condition's time).
    static func id(kind: Kind, repository: String, cause: [String]) -> String {
        let text = ([kind.rawValue, repository] + cause).joined(separator: "\u{1F}")
        return SHA256.hash(data: Array(text.utf8)).prefix(16).map { byte in
            let hex = String(byte, radix: 16)
            return hex.count == 1 ? "0" + hex : hex
        }.joined()
    }

    static func bounded(_ text: String, to limit: Int) -> String {
        text.count <= limit ? text : String(text.prefix(limit - 1)) + "…"
    }
}

/// A repository URL as it may be shown: `https://user:token@host/x` loses `user:token@`.
public enum RepositoryURL {
    public static func withoutCredentials(_ url: String) -> String {
        guard let scheme = url.range(of: "://") else { return url }
        let rest = url[scheme.upperBound...]
        let authorityEnd = rest.firstIndex(of: "/") ?? rest.endIndex
        guard let at = rest[..<authorityEnd].lastIndex(of: "@") else { return url }
        return String(url[..<scheme.upperBound]) + rest[rest.index(after: at)...]
    }
}
