import FoundationEssentials
public import SluiceCore
import SluicePrometheus
public import SluiceStore

/// Asks the clock and Prometheus which stages should retrain now (continuous training).
/// A Prometheus that cannot be asked never fails a run: the stage is simply not
/// triggered and the plan says why.
public struct TriggerEvaluator: Sendable {
    public let store: RunStore
    public let environment: [String: String]

    public init(store: RunStore, environment: [String: String]) {
        self.store = store
        self.environment = environment
    }

    public func evaluate(_ spec: PipelineSpec, repositoryKey: String, now: Double) -> (triggered: [String: String], notes: [String]) {
        var triggered: [String: String] = [:]
        var notes: [String] = []
        for stage in spec.stages {
            guard let when = stage.when else { continue }
            if let schedule = when.schedule {
                let last = (try? store.lastExecuted(repository: repositoryKey, stage: stage.name)) ?? nil
                if schedule.isDue(lastRun: last, now: now) {
                    triggered[stage.name] = "schedule \(schedule): " + (last.map { "last ran \(DurationText.format(seconds: Int(now - $0))) ago" } ?? "never ran")
                }
            }
            if let metric = when.prometheus {
                guard let url = metric.url ?? environment["SLUICE_PROMETHEUS_URL"], !url.isEmpty else {
                    notes.append("stage '\(stage.name)': the Prometheus trigger needs 'url' or SLUICE_PROMETHEUS_URL; not evaluated")
                    continue
                }
                do {
                    let values = try PrometheusClient(url: url).query(metric.query)
                    if metric.fires(on: values) {
                        let shown = values.map { String($0) }.joined(separator: ", ")
                        triggered[stage.name] = [triggered[stage.name], "prometheus: \(metric.query) = \(shown) (\(metric.comparison.rawValue) \(metric.threshold))"]
                            .compactMap { $0 }.joined(separator: "; ")
                    } else if values.isEmpty {
                        notes.append("stage '\(stage.name)': Prometheus query '\(metric.query)' returned no series; not triggered")
                    }
                } catch {
                    notes.append("stage '\(stage.name)': Prometheus trigger not evaluated: \(error)")
                }
            }
        }
        return (triggered, notes)
    }
}
