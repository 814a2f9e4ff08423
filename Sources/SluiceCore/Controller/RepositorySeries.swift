import Synchronization

/// The `/metrics` series that exist once per repository (its conditions, health, last poll and
/// run counts), kept here as plain values and written out at scrape time. They are not
/// registered with swift-prometheus: its registry keeps a metric's label sets in a dictionary
/// that it copies whole each time a label set is added or removed, so with ten thousand
/// repositories every condition change at start-up copied the tens of thousands of series
/// before it (quadratic: the controller spent most of its start-up there). Here a change is a
/// dictionary write under a lock, and a scrape walks the repositories once, in name order.
public final class RepositorySeries: Sendable {
    struct Series {
        var healthy = true
        var consecutiveFailures = 0
        var lastSuccessfulPoll: Double?
        /// Finished runs by result.
        var runs: [String: Int] = [:]
        /// (environment, type) → (status, reason); "" is the repository's own.
        var conditions: [ConditionKey: (status: String, reason: String)] = [:]
    }

    struct ConditionKey: Hashable, Comparable {
        var environment: String
        var type: String
        static func < (a: Self, b: Self) -> Bool { (a.environment, a.type) < (b.environment, b.type) }
    }

    private let state = Mutex<[String: Series]>([:])

    public init() {}

    public func poll(repository: String, healthy: Bool, consecutiveFailures: Int, lastSuccess: Double?) {
        state.withLock { all in
            var series = all[repository] ?? Series()
            series.healthy = healthy
            series.consecutiveFailures = consecutiveFailures
            series.lastSuccessfulPoll = lastSuccess ?? series.lastSuccessfulPoll
            all[repository] = series
        }
    }

    public func runFinished(repository: String, result: String) {
        state.withLock { $0[repository, default: Series()].runs[result, default: 0] += 1 }
    }

    /// The condition's current status and reason; the one it replaced is gone (one series per
    /// condition, not one per reason it ever had).
    public func condition(repository: String, environment: String, _ condition: Condition) {
        state.withLock {
            $0[repository, default: Series()].conditions[ConditionKey(environment: environment, type: condition.kind.rawValue)] =
                (condition.status.rawValue, condition.reason)
        }
    }

    /// Appends the series in Prometheus' text format, each metric with its HELP and TYPE.
    public func emit(into buffer: inout [UInt8]) {
        let all = state.withLock { $0 }.sorted { $0.key < $1.key }
        func family(_ metric: ControllerMetric, _ lines: (inout [UInt8], String, Series) -> Void) {
            buffer.append(contentsOf: "# HELP \(metric.rawValue) \(metric.help)\n# TYPE \(metric.rawValue) \(metric.kind.rawValue)\n".utf8)
            for (repository, series) in all { lines(&buffer, repository, series) }
        }
        family(.repositoryHealthy) { b, name, s in b.sample(.repositoryHealthy, [name], s.healthy ? "1" : "0") }
        family(.reconcileErrors) { b, name, s in b.sample(.reconcileErrors, [name], String(s.consecutiveFailures)) }
        family(.lastSuccessfulPoll) { b, name, s in
            if let t = s.lastSuccessfulPoll { b.sample(.lastSuccessfulPoll, [name], "\(t)") }
        }
        family(.pipelineRuns) { b, name, s in
            for (result, n) in s.runs.sorted(by: { $0.key < $1.key }) { b.sample(.pipelineRuns, [name, result], String(n)) }
        }
        family(.condition) { b, name, s in
            for (key, value) in s.conditions.sorted(by: { $0.key < $1.key }) {
                b.sample(.condition, [name, key.environment, key.type, value.status, value.reason], "1")
            }
        }
    }
}

extension [UInt8] {
    /// `name{label="value",...} value`, label values escaped as the text format requires.
    fileprivate mutating func sample(_ metric: ControllerMetric, _ values: [String], _ value: String) {
        append(contentsOf: metric.rawValue.utf8)
        append(UInt8(ascii: "{"))
        for (i, (label, labelValue)) in zip(metric.labels, values).enumerated() {
            if i > 0 { append(UInt8(ascii: ",")) }
            append(contentsOf: label.utf8)
            append(contentsOf: "=\"".utf8)
            for byte in labelValue.utf8 {
                switch byte {
                case UInt8(ascii: "\\"): append(contentsOf: "\\\\".utf8)
                case UInt8(ascii: "\""): append(contentsOf: "\\\"".utf8)
                case UInt8(ascii: "\n"): append(contentsOf: "\\n".utf8)
                default: append(byte)
                }
            }
            append(UInt8(ascii: "\""))
        }
        append(contentsOf: "} ".utf8)
        append(contentsOf: value.utf8)
        append(UInt8(ascii: "\n"))
    }
}
