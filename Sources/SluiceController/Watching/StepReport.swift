import Logging
import SluiceCore

/// What a reconciler step decided about the conditions it owns, and what to log, for the
/// watcher to apply: it sets each condition (logging a change once and storing it) and logs
/// each line. Steps compute this off the watcher's actor, as a value, so what a step concludes
/// from what it observed can be tested without a watcher.
struct StepReport: Sendable, Equatable {
    struct ConditionChange: Sendable, Equatable {
        var reason: ConditionReason
        var message: String
        var kind: Condition.Kind { reason.kind }
        var status: Condition.Status { reason.status }
        /// nil: the repository's own condition.
        var environment: String?
    }

    struct Line: Sendable, Equatable {
        var level: Logger.Level
        var message: String
        var environment: String?
    }

    var conditions: [ConditionChange] = []
    var lines: [Line] = []

    mutating func set(_ reason: ConditionReason, message: String, environment: String? = nil) {
        conditions.append(ConditionChange(reason: reason, message: message, environment: environment))
    }

    mutating func log(_ level: Logger.Level, _ message: String, environment: String? = nil) {
        lines.append(Line(level: level, message: message, environment: environment))
    }
}

extension RepositoryWatcher {
    /// Logs a step's lines and sets its conditions, in that order.
    func apply(_ report: StepReport) {
        for line in report.lines {
            log.log(level: line.level, "\(line.message)", metadata: line.environment.map { ["environment": .string($0)] })
        }
        for c in report.conditions {
            setCondition(c.reason, message: c.message, environment: c.environment)
        }
    }
}
