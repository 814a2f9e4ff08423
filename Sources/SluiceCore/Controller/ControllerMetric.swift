/// Every metric the controller serves on `/metrics`, with its type, labels and meaning. The
/// code that reports a metric names it from here (`dimensions` pairs the labels with values in
/// this order), so a metric cannot be added without its entry, and the metrics reference page
/// (`sluice reference`) is generated from this list.
public enum ControllerMetric: String, CaseIterable, Sendable {
    case pipelineRuns = "sluice_pipeline_runs_total"
    case stageDuration = "sluice_stage_duration_seconds"
    case cacheHits = "sluice_cache_hits_total"
    case gateVerdicts = "sluice_gate_verdicts_total"
    case promotions = "sluice_promotions_total"
    case environmentSteps = "sluice_environment_steps_total"
    case canary = "sluice_canary_total"
    case deploys = "sluice_deploys_total"
    case deployDuration = "sluice_deploy_duration_seconds"
    case commitToDeployed = "sluice_commit_to_deployed_seconds"
    case slotsInUse = "sluice_slots_in_use"
    case slotsWaiting = "sluice_slots_waiting"
    case repositoryHealthy = "sluice_repository_healthy"
    case reconcileErrors = "sluice_reconcile_errors"
    case lastSuccessfulPoll = "sluice_last_successful_poll_timestamp_seconds"
    case condition = "sluice_condition"
    case forgeErrors = "sluice_forge_errors_total"
    case webhooks = "sluice_webhooks_total"
    case notifications = "sluice_notifications_total"

    public enum Kind: String, Sendable { case counter, gauge, histogram }

    public var kind: Kind {
        switch self {
        case .pipelineRuns, .cacheHits, .gateVerdicts, .promotions, .environmentSteps, .canary, .deploys, .forgeErrors, .webhooks, .notifications: .counter
        case .stageDuration, .deployDuration, .commitToDeployed: .histogram
        case .slotsInUse, .slotsWaiting, .repositoryHealthy, .reconcileErrors, .lastSuccessfulPoll, .condition: .gauge
        }
    }

    public var labels: [String] {
        switch self {
        case .pipelineRuns: ["repository", "result"]
        case .gateVerdicts: ["decision"]
        case .promotions: ["model", "action"]
        case .environmentSteps: ["environment", "state"]
        case .canary, .deploys: ["environment", "result"]
        case .slotsInUse, .slotsWaiting: ["kind"]
        case .repositoryHealthy, .reconcileErrors, .lastSuccessfulPoll: ["repository"]
        case .condition: ["repository", "environment", "type", "status", "reason"]
        case .forgeErrors: ["repository", "forge", "code"]
        case .webhooks: ["result"]
        case .notifications: ["provider", "result"]
        case .stageDuration, .cacheHits, .deployDuration, .commitToDeployed: []
        }
    }

    public var help: String {
        switch self {
        case .pipelineRuns: "Pipeline runs finished, by result (succeeded, failed, cancelled)."
        case .stageDuration: "Seconds a stage ran (succeeded or failed; cache hits are not timed)."
        case .cacheHits: "Stages whose outputs came from the cache."
        case .gateVerdicts: "Gate verdicts, by decision (promote, reject, report-only)."
        case .promotions: "Moves of a model's production version, by action (promote, rollback)."
        case .environmentSteps: "Steps of versions down the environment chain (entered, verified, failed, approved, ...)."
        case .canary: "Canary steps, aborts and completions, by environment."
        case .deploys: "Deploys of a production version (promotion, rollback, self-heal), by result."
        case .deployDuration: "Seconds a deploy took, render to healthy."
        case .commitToDeployed: "Seconds from a commit's committer time to its model being deployed."
        case .slotsInUse: "Fetches or pipelines (kind fetch, run) holding one of the controller's shared slots."
        case .slotsWaiting: "Fetches or pipelines waiting for a slot; a queue that stays long says run-parallelism is too low."
        case .repositoryHealthy: "1 while the repository's last poll fetched it and its sluice.yaml was valid."
        case .reconcileErrors: "Consecutive failed polls of the repository (0 after a success)."
        case .lastSuccessfulPoll: "When the repository was last polled successfully, seconds since 1970."
        case .condition: "1 for a condition's current status and reason; the series of the status and reason it replaced is removed (so a repository leaves one series per condition, not one per reason it ever had)."
        case .forgeErrors: "Forge answers other than success while reporting on a merge request, by HTTP code (or unreachable)."
        case .webhooks: "Webhook deliveries, by result (accepted, unauthorized, malformed, replayed, throttled, too_large, unknown_repository)."
        case .notifications: "Notification deliveries, by provider and result (delivered, retried, failed, collapsed)."
        }
    }

    /// The label names paired with `values`, in order.
    public func dimensions(_ values: String...) -> [(String, String)] { Array(zip(labels, values)) }
}
