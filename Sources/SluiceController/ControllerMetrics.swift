import CoreMetrics
public import SluiceCore

/// The controller's metrics, reported through swift-metrics as things happen (the
/// `sluice watch` process bootstraps the Prometheus backend; elsewhere they go nowhere),
/// except the series each repository has once, which `repositories` keeps and `/metrics`
/// writes at scrape time.
/// Counters count what this process did since it started, as Prometheus counters do;
/// `rate()` and `increase()` handle restarts. Names, labels and meanings are `ControllerMetric`'s.
public enum ControllerMetrics {
    private typealias M = ControllerMetric
    /// Seconds; stages and deploys take from a second to an hour.
    public static let durationBuckets: [Double] = [0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600]
    /// Commit to deployed: minutes to days.
    public static let latencyBuckets: [Double] = [60, 300, 900, 3600, 4 * 3600, 24 * 3600, 7 * 24 * 3600]

    /// The series kept once per repository, which `/metrics` writes after the registry's.
    public static let repositories = RepositorySeries()

    public static func runFinished(repository: String, status: String) {
        repositories.runFinished(repository: repository, result: status)
    }

    public static func stageFinished(status: String, seconds: Double, cached: Bool) {
        if cached { Counter(label: M.cacheHits.rawValue).increment() }
        guard status == "succeeded" || status == "failed" else { return }
        Recorder(label: M.stageDuration.rawValue, aggregate: true).record(seconds)
    }

    /// A notification delivery attempt's result (delivered, retried, failed) or a collapsed duplicate.
    public static func notification(provider: String, result: String) {
        Counter(label: M.notifications.rawValue, dimensions: M.notifications.dimensions(provider, result)).increment()
    }

    public static func verdict(_ verdict: Verdict) {
        Counter(label: M.gateVerdicts.rawValue, dimensions: M.gateVerdicts.dimensions(verdict.rawValue)).increment()
    }

    public static func promotion(model: String, action: String) {
        Counter(label: M.promotions.rawValue, dimensions: M.promotions.dimensions(model, action)).increment()
    }

    /// A step of a version down the environment chain (entered, verified, failed, ...).
    public static func environmentStep(environment: String, state: String) {
        Counter(label: M.environmentSteps.rawValue, dimensions: M.environmentSteps.dimensions(environment, state)).increment()
    }

    /// A canary's step, abort (rolled back to the stable version) or promotion at 100 %.
    public static func canary(environment: String, result: String) {
        Counter(label: M.canary.rawValue, dimensions: M.canary.dimensions(environment, result)).increment()
    }

    /// A deploy of a promoted (or rolled back, or self-healed) version.
    public static func deploy(environment: String, succeeded: Bool, seconds: Double, commitToDeployed: Double?) {
        Counter(label: M.deploys.rawValue, dimensions: M.deploys.dimensions(environment, succeeded ? "succeeded" : "failed")).increment()
        Recorder(label: M.deployDuration.rawValue, aggregate: true).record(seconds)
        if succeeded, let commitToDeployed { Recorder(label: M.commitToDeployed.rawValue, aggregate: true).record(max(0, commitToDeployed)) }
    }

    /// Fetches or pipelines holding and waiting for the controller's shared slots.
    public static func slots(kind: String, inUse: Int, waiting: Int) {
        Gauge(label: M.slotsInUse.rawValue, dimensions: M.slotsInUse.dimensions(kind)).record(inUse)
        Gauge(label: M.slotsWaiting.rawValue, dimensions: M.slotsWaiting.dimensions(kind)).record(waiting)
    }

    public static func poll(repository: String, healthy: Bool, consecutiveFailures: Int, lastSuccess: Double?) {
        repositories.poll(repository: repository, healthy: healthy, consecutiveFailures: consecutiveFailures, lastSuccess: lastSuccess)
    }

    /// `sluice_condition{repository, environment, type, status, reason}`: 1 for the current
    /// status and reason. The series it replaced is removed, not kept at 0: a repository
    /// that went through many reasons would otherwise leave one series per reason for ever,
    /// which ten thousand repositories multiply into every scrape.
    public static func condition(repository: String, environment: String, _ new: Condition) {
        repositories.condition(repository: repository, environment: environment, new)
    }

    /// A forge answered other than success while Sluice reported on a merge request.
    public static func forgeFailure(repository: String, forge: String, status: Int?) {
        Counter(label: M.forgeErrors.rawValue,
                dimensions: M.forgeErrors.dimensions(repository, forge, status.map(String.init) ?? "unreachable")).increment()
    }
}
