import CoreMetrics
public import SluiceCore

/// The controller's metrics, reported through swift-metrics as things happen (the
/// `sluice watch` process bootstraps the Prometheus backend; elsewhere they go nowhere).
/// Counters count what this process did since it started, as Prometheus counters do;
/// `rate()` and `increase()` handle restarts. Names and labels are listed in the README.
public enum ControllerMetrics {
    /// Seconds; stages and deploys take from a second to an hour.
    public static let durationBuckets: [Double] = [0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600]
    /// Commit to deployed: minutes to days.
    public static let latencyBuckets: [Double] = [60, 300, 900, 3600, 4 * 3600, 24 * 3600, 7 * 24 * 3600]

    public static func runFinished(repository: String, status: String) {
        Counter(label: "sluice_pipeline_runs_total", dimensions: [("repository", repository), ("result", status)]).increment()
    }

    public static func stageFinished(status: String, seconds: Double, cached: Bool) {
        if cached { Counter(label: "sluice_cache_hits_total").increment() }
        guard status == "succeeded" || status == "failed" else { return }
        Recorder(label: "sluice_stage_duration_seconds", aggregate: true).record(seconds)
    }

    public static func verdict(_ verdict: Verdict) {
        Counter(label: "sluice_gate_verdicts_total", dimensions: [("decision", verdict.rawValue)]).increment()
    }

    public static func promotion(model: String, action: String) {
        Counter(label: "sluice_promotions_total", dimensions: [("model", model), ("action", action)]).increment()
    }

    /// A step of a version down the environment chain (entered, verified, failed, ...).
    public static func environmentStep(environment: String, state: String) {
        Counter(label: "sluice_environment_steps_total", dimensions: [("environment", environment), ("state", state)]).increment()
    }

    /// A canary's step, abort (rolled back to the stable version) or promotion at 100 %.
    public static func canary(environment: String, result: String) {
        Counter(label: "sluice_canary_total", dimensions: [("environment", environment), ("result", result)]).increment()
    }

    /// A deploy of a promoted (or rolled back, or self-healed) version.
    public static func deploy(environment: String, succeeded: Bool, seconds: Double, commitToDeployed: Double?) {
        Counter(label: "sluice_deploys_total", dimensions: [("environment", environment), ("result", succeeded ? "succeeded" : "failed")]).increment()
        Recorder(label: "sluice_deploy_duration_seconds", aggregate: true).record(seconds)
        if succeeded, let commitToDeployed { Recorder(label: "sluice_commit_to_deployed_seconds", aggregate: true).record(max(0, commitToDeployed)) }
    }

    /// Fetches or pipelines holding and waiting for the controller's shared slots.
    public static func slots(kind: String, inUse: Int, waiting: Int) {
        Gauge(label: "sluice_slots_in_use", dimensions: [("kind", kind)]).record(inUse)
        Gauge(label: "sluice_slots_waiting", dimensions: [("kind", kind)]).record(waiting)
    }

    public static func poll(repository: String, healthy: Bool, consecutiveFailures: Int, lastSuccess: Double?) {
        Gauge(label: "sluice_repository_healthy", dimensions: [("repository", repository)]).record(healthy ? 1 : 0)
        Gauge(label: "sluice_reconcile_errors", dimensions: [("repository", repository)]).record(consecutiveFailures)
        if let lastSuccess { Gauge(label: "sluice_last_successful_poll_timestamp_seconds", dimensions: [("repository", repository)]).record(lastSuccess) }
    }

    /// `sluice_condition{repository, environment, type, status, reason}`: 1 for the current
    /// status and reason, 0 for the one it replaced (as kube-state-metrics reports conditions).
    public static func condition(repository: String, environment: String, _ new: Condition, replacing old: Condition?) {
        func gauge(_ c: Condition) -> Gauge {
            Gauge(label: "sluice_condition", dimensions: [("repository", repository), ("environment", environment), ("type", c.kind.rawValue),
                                                           ("status", c.status.rawValue), ("reason", c.reason)])
        }
        if let old, old.status != new.status || old.reason != new.reason { gauge(old).record(0) }
        gauge(new).record(1)
    }

    /// A forge answered other than success while Sluice reported on a merge request.
    public static func forgeFailure(repository: String, forge: String, status: Int?) {
        Counter(label: "sluice_forge_errors_total", dimensions: [("repository", repository), ("forge", forge),
                                                                 ("code", status.map(String.init) ?? "unreachable")]).increment()
    }
}
