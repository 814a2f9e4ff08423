import Foundation
import SluiceController
import SluiceStore

/// `/metrics` in the Prometheus text format, computed from the run store (a few aggregate
/// queries per scrape) and the watchers.
enum MetricsText {
    static let durationBuckets: [Double] = [0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600]
    /// Commit to deployed: minutes to days.
    static let latencyBuckets: [Double] = [60, 300, 900, 3600, 4 * 3600, 24 * 3600, 7 * 24 * 3600]

    static func render(store: RunStore, health: [(String, RepositoryWatcher.Health)], webhooks: [String: Int]) -> String {
        var out: [String] = []
        func family(_ name: String, _ type: String, _ help: String) {
            out.append("# HELP \(name) \(help)")
            out.append("# TYPE \(name) \(type)")
        }
        func histogram(_ name: String, _ help: String, _ values: [Double], buckets bounds: [Double]) {
            family(name, "histogram", help)
            for bound in bounds { out.append("\(name)_bucket{le=\"\(bound)\"} \(values.count { $0 <= bound })") }
            out.append("\(name)_bucket{le=\"+Inf\"} \(values.count)")
            out.append("\(name)_sum \(values.reduce(0, +))")
            out.append("\(name)_count \(values.count)")
        }
        func label(_ v: String) -> String { v.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") }
        family("sluice_pipeline_runs_total", "counter", "Pipeline runs by repository and result.")
        for c in (try? store.runCounts()) ?? [] {
            out.append("sluice_pipeline_runs_total{repository=\"\(label(c.repository))\",result=\"\(c.status)\"} \(c.count)")
        }

        var durations: [Double] = [], cacheHits = 0
        for s in (try? store.allStages()) ?? [] {
            if s.cacheHit { cacheHits += 1 }
            guard s.status == .succeeded || s.status == .failed, let a = s.startedAt, let b = s.finishedAt else { continue }
            durations.append(b - a)
        }
        histogram("sluice_stage_duration_seconds", "Time stages took to run.", durations, buckets: durationBuckets)
        family("sluice_cache_hits_total", "counter", "Stages whose stored result was reused.")
        out.append("sluice_cache_hits_total \(cacheHits)")

        family("sluice_gate_verdicts_total", "counter", "Gate reports by decision.")
        var verdicts: [String: Int] = [:]
        for stored in (try? store.reports(kind: GateService.reportKind)) ?? [] {
            guard let report = (try? GateService.report(in: [stored])) ?? nil else { continue }
            verdicts[report.decision.rawValue, default: 0] += 1
        }
        for (d, n) in verdicts.sorted(by: { $0.key < $1.key }) { out.append("sluice_gate_verdicts_total{decision=\"\(d)\"} \(n)") }
        family("sluice_promotions_total", "counter", "Promotion log entries by model and action (promote, rollback).")
        for model in (try? store.modelNames()) ?? [] {
            var actions: [String: Int] = [:]
            for e in (try? store.promotions(model: model)) ?? [] { actions[e.action.rawValue, default: 0] += 1 }
            for (a, n) in actions.sorted(by: { $0.key < $1.key }) { out.append("sluice_promotions_total{model=\"\(label(model))\",action=\"\(a)\"} \(n)") }
        }

        let deployments = ((try? store.reports(kind: DeploymentReport.kind)) ?? []).compactMap(DeploymentReport.decode)
        family("sluice_deploys_total", "counter", "Deploys of promoted models by environment and result.")
        var deploys: [String: Int] = [:]
        for d in deployments { deploys["environment=\"\(label(d.environment))\",result=\"\(d.succeeded ? "succeeded" : "failed")\"", default: 0] += 1 }
        for (k, n) in deploys.sorted(by: { $0.key < $1.key }) { out.append("sluice_deploys_total{\(k)} \(n)") }
        histogram("sluice_deploy_duration_seconds", "Time from starting a deploy to the environment being written (and, on Kubernetes, healthy).",
                  deployments.map { $0.finishedAt - $0.startedAt }, buckets: durationBuckets)
        histogram("sluice_commit_to_deployed_seconds", "From a commit's committer time to its model being deployed.",
                  deployments.filter(\.succeeded).map { max(0, $0.finishedAt - $0.committedAt) }, buckets: latencyBuckets)

        family("sluice_reconcile_errors", "gauge", "Consecutive failed polls, per repository.")
        family("sluice_last_successful_poll_timestamp_seconds", "gauge", "When each repository was last polled successfully.")
        family("sluice_repository_healthy", "gauge", "1 when the repository's last poll succeeded.")
        for (name, h) in health {
            out.append("sluice_reconcile_errors{repository=\"\(label(name))\"} \(h.consecutiveFailures)")
            out.append("sluice_repository_healthy{repository=\"\(label(name))\"} \(h.healthy ? 1 : 0)")
            if let t = h.lastSuccessfulPoll { out.append("sluice_last_successful_poll_timestamp_seconds{repository=\"\(label(name))\"} \(t)") }
        }
        family("sluice_condition", "gauge", "1 for each repository's and environment's current condition status (environment \"\" is the repository's own).")
        for (name, h) in health {
            let all = [("", h.conditions)] + h.environments.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
            for (environment, conditions) in all {
                for c in conditions.all {
                    out.append("sluice_condition{repository=\"\(label(name))\",environment=\"\(label(environment))\",type=\"\(c.kind.rawValue)\",status=\"\(c.status.rawValue)\",reason=\"\(label(c.reason))\"} 1")
                }
            }
        }
        family("sluice_webhooks_total", "counter", "Webhook deliveries by result.")
        for (result, n) in webhooks.sorted(by: { $0.key < $1.key }) { out.append("sluice_webhooks_total{result=\"\(result)\"} \(n)") }
        return out.joined(separator: "\n") + "\n"
    }
}
