/// One step of `environments:`, the ordered list a model version moves down: gate → first
/// environment → verified and soaked → next → ... The last environment is production (it
/// holds the registry's production version); `deploy:` is the one-environment shorthand.
public struct EnvironmentSpec: Hashable, Sendable {
    /// How a version enters the environment once the previous one let it through.
    public enum Promotion: String, Hashable, Sendable, CaseIterable {
        /// As soon as the previous environment verified it and its soak time passed.
        case auto
        /// Also needs `sluice approve MODEL VERSION --to NAME` (or the UI or API).
        case manual
    }

    /// Where and how to deploy (its `environment` is this environment's name).
    public var deploy: DeploySpec
    /// Checks that must pass once the environment is healthy.
    public var verify: [VerifyCheck] = []
    /// How long a version must stay verified here before it moves on.
    public var soakSeconds = 0
    public var promote: Promotion = .auto
    /// Enter gradually (kubernetes target): `strategy: { canary: ... }`.
    public var canary: CanaryStrategy?
    public var location: SourceLocation

    public var name: String { deploy.environment }

    public init(deploy: DeploySpec, location: SourceLocation) {
        self.deploy = deploy
        self.location = location
    }
}

/// A check of a deployed environment: a command (smoke tests, replaying traffic against the
/// deployed model), run as a Kubernetes Job when the pipeline's runner is `kubernetes`, an
/// analysis of live metrics against bounds, or a comparison of them with a baseline version's.
public struct VerifyCheck: Hashable, Sendable {
    public enum Kind: Hashable, Sendable {
        case command(StageSpec.Command, timeoutSeconds: Int)
        case analysis(Analysis)
        /// The version against a baseline version (`compare:`).
        case comparison(Comparison)
    }

    public var name: String
    public var kind: Kind
    /// The image a command check runs in on the Kubernetes runner (default: the runner's).
    public var image: String?
    public var location: SourceLocation

    public init(name: String, kind: Kind, location: SourceLocation) {
        self.name = name
        self.kind = kind
        self.location = location
    }
}

/// A Prometheus query measured `count` times, `interval` apart (the shape of Argo Rollouts'
/// AnalysisTemplate): a measurement outside `[min, max]` is a failure, more than
/// `failureLimit` failures fail the check, and a measurement without data is inconclusive,
/// never a pass. `{{model.version}}`, `{{model.name}}` and `{{environment}}` are filled in.
public struct Analysis: Hashable, Sendable {
    public var query: String
    public var min: Double?
    public var max: Double?
    public var intervalSeconds = 30
    public var count = 1
    public var failureLimit = 0
    /// The Prometheus server (default: `PROMETHEUS_URL` of Sluice's environment).
    public var url: String?

    public init(query: String) { self.query = query }

    /// The query for one version in one environment.
    public func query(model: String, version: String, environment: String) -> String {
        query.replacingOccurrences(of: "{{model.version}}", with: version)
            .replacingOccurrences(of: "{{model.name}}", with: model)
            .replacingOccurrences(of: "{{environment}}", with: environment)
    }
}

/// `strategy: { canary: { steps: [10, 50, 100], pause: 5m, analysis: [...] } }`: the new
/// version's Deployments run next to the stable ones behind the same Services, scaled so the
/// new version's share of the replicas follows the steps (no service mesh); after each step's
/// pause the analysis decides: on to the next step, or abort (the canary is removed, the
/// stable version never stopped serving). The last step is 100: the environment takes the
/// version and the canary is removed.
public struct CanaryStrategy: Hashable, Sendable {
    /// Percentages, ascending, ending with 100.
    public var steps: [Int]
    public var pauseSeconds: Int
    public var analysis: [VerifyCheck] = []

    public init(steps: [Int], pauseSeconds: Int) {
        self.steps = steps
        self.pauseSeconds = pauseSeconds
    }

    /// Canary replicas next to `stable` ones so that they are about `weight` % of all.
    public static func replicas(stable: Int, weight: Int) -> Int {
        guard weight > 0 else { return 0 }
        guard weight < 100, stable > 0 else { return max(1, stable) }
        // Bounded: replicas come from the repository's manifests (no trap on absurd numbers).
        let exact = min(1_000_000, Double(stable) * Double(weight) / Double(100 - weight))
        return max(1, Int(exact.rounded(.up)))
    }
}
