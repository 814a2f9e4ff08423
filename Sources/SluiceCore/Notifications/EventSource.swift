/// Makes the events of one watched repository from what just happened: pure functions of the
/// cause, so the caller records each in the same store transaction as the cause itself.
public struct EventSource: Hashable, Sendable {
    /// The repository's `name` in the controller configuration.
    public var repository: String
    public var repositoryURL: String
    /// The repository's `notify:` routes (of the commit whose events these are).
    public var routes: [NotificationSettings.Route] = []

    public init(repository: String, repositoryURL: String) {
        self.repository = repository
        self.repositoryURL = repositoryURL
    }

    /// The same source with `spec`'s `notify:` routes.
    public func routing(_ spec: PipelineSpec) -> EventSource {
        var source = self
        source.routes = spec.notify
        return source
    }

    func event(_ kind: NotificationEvent.Kind, cause: [String], time: Double, model: String? = nil, version: String? = nil,
               environment: String? = nil, run: Int64? = nil, commit: String? = nil, link: String, title: String,
               details: [String] = []) -> NotificationEvent {
        var event = NotificationEvent(kind: kind, cause: cause, time: time, repository: repository, repositoryURL: repositoryURL, model: model,
                                      version: version, environment: environment, run: run, commit: commit, link: link, title: title, details: details)
        var chosen = NotificationSettings()
        chosen.routes = routes
        event.repositoryProviders = chosen.providers(for: event)
        return event
    }

    /// A production-branch run's stages failed: which, and the last lines each logged.
    public func runFailed(run: Int64, commit: String, message: String?, failures: [(stage: String, lastLines: [String])],
                          time: Double) -> NotificationEvent {
        let stages = failures.map(\.stage)
        let what = stages.isEmpty ? (message ?? "it failed") : "stage\(stages.count == 1 ? "" : "s") \(stages.joined(separator: ", ")) failed"
        var details: [String] = []
        for failure in failures.prefix(3) {
            details.append("\(failure.stage):")
            details += failure.lastLines.suffix(5).map { "  " + $0 }
        }
        return event(.runFailed, cause: ["\(run)"], time: time, run: run, commit: commit, link: "/runs/\(run)",
                     title: "\(repository): run \(run) of \(CommitID(commit).short) failed: \(what)", details: details)
    }

    /// The gate's verdict on a production-branch run, and the data drift its checks found.
    /// - Parameters:
    ///   - entered: the first environment a passing version enters (a chain), if any.
    ///   - error: why the gate could not be evaluated (then `report` is nil).
    public func gate(run: Int64, commit: String, model: String, report: GateReport?, version: String?, promoted: Bool,
                     entered: String?, error: String?, time: Double) -> [NotificationEvent] {
        let link = "/runs/\(run)"
        if let error {
            return [event(.gateCouldNotEvaluate, cause: ["\(run)"], time: time, model: model, run: run, commit: commit, link: link,
                          title: "\(model): the gate of run \(run) could not be evaluated: \(error); nothing was promoted")]
        }
        guard let report else { return [] }
        var events: [NotificationEvent] = []
        let rules = report.decidingRows(limit: NotificationEvent.detailLimit).map(GateReport.sentence)
        switch report.decision {
        case .promote where promoted || entered != nil:
            let version = version ?? "?"
            let outcome = entered.map { "passed the gate and enters \($0)" } ?? "promoted to production"
            events.append(event(.gatePromoted, cause: ["\(run)"], time: time, model: model, version: version, run: run, commit: commit,
                                link: link, title: "\(model) version \(version) \(outcome) (run \(run))", details: rules))
        case .reject:
            let first = rules.first.map { ": " + $0 } ?? (report.overriding.map { ": " + $0 } ?? "")
            let failedData = report.dataChecks.filter { $0.validation.verdict == .fail }.map { "data check \($0.stage) failed on \($0.validation.data)" }
            events.append(event(.gateRejected, cause: ["\(run)"], time: time, model: model, run: run, commit: commit, link: link,
                                title: "\(model): the candidate of run \(run) was rejected\(first)", details: rules + failedData))
        case .couldNotEvaluate:
            events.append(event(.gateCouldNotEvaluate, cause: ["\(run)"], time: time, model: model, run: run, commit: commit, link: link,
                                title: "\(model): the gate of run \(run) could not be evaluated\(report.overriding.map { ": " + $0 } ?? ""); nothing was promoted"))
        default:
            break
        }
        for check in report.dataChecks {
            let drifted = check.validation.drift.filter { $0.verdict != .pass }
            guard !drifted.isEmpty else { continue }
            let worst = drifted.map(\.verdict).max() ?? .warn
            let lines = drifted.map { d in
                "\(d.column): \(d.test) \(d.thresholdOn == "p-value" ? "p-value \(GateReportMarkdown.number(d.pValue ?? d.statistic))" : GateReportMarkdown.number(d.statistic)) "
                    + "(warn \(GateReportMarkdown.number(d.warn)), fail \(GateReportMarkdown.number(d.fail))): \(d.verdict.rawValue)"
            }
            events.append(event(.dataDrift, cause: ["\(run)", check.stage], time: time, model: model, run: run, commit: commit, link: link,
                                title: "\(model): data drift in \(check.validation.data) (stage \(check.stage), run \(run)): \(drifted.count) column\(drifted.count == 1 ? "" : "s") beyond \(worst == .fail ? "the fail" : "the warn") threshold",
                                details: lines))
        }
        return events
    }

    /// A step down `environments:`. `isLast`: the environment is production; `canary`: a
    /// failure is a canary's analysis (or weight) that failed.
    public func step(_ step: EnvironmentStepRecord, isLast: Bool, canary: Bool = false) -> NotificationEvent? {
        let kind: NotificationEvent.Kind
        let what: String
        switch step.state {
        case .entered where isLast: (kind, what) = (.environmentPromoted, "reached \(step.environment): it is in production")
        case .entered: (kind, what) = (.environmentEntered, "entered \(step.environment)")
        case .verified: (kind, what) = (.environmentVerified, "verified in \(step.environment)")
        case .failed where canary: (kind, what) = (.canaryAborted, "canary in \(step.environment) aborted")
        case .failed: (kind, what) = (.environmentCheckFailed, "stopped in \(step.environment)")
        case .awaitingApproval: (kind, what) = (.environmentWaitingForApproval, "waits for approval into \(step.environment)")
        case .canary:
            // The weight is in the title: two steps of one canary are different news, not a
            // repeat for the rate limit to collapse (its fingerprint includes the title).
            let weight = step.detail.split(separator: ":", maxSplits: 1).first.map { " at " + $0 } ?? ""
            (kind, what) = (.canaryStep, "canary\(weight) in \(step.environment)")
        case .admitted, .approved, .superseded: return nil  // admitted: the gate's own event says so
        }
        var details = step.detail.isEmpty ? [] : [step.detail]
        if step.state == .awaitingApproval {
            details.append("approve: sluice approve \(step.model) \(step.version) --to \(step.environment), or the button on the model page")
        }
        return event(kind, cause: [step.model, step.version, step.environment, step.state.rawValue, "\(step.createdAt)"], time: step.createdAt, model: step.model, version: step.version,
                     environment: step.environment, run: step.runId, link: "/models/\(step.model)",
                     title: "\(step.model) version \(step.version) \(what)", details: details)
    }

    /// A condition the watcher set that people should hear about (deploy failures, drift,
    /// quarantine); nil for the others. `since` is when it became so: one event per transition.
    public func condition(_ reason: ConditionReason, message: String, environment: String?, since: Double) -> NotificationEvent? {
        let kind: NotificationEvent.Kind
        let title: String
        let place = environment.map { " in \($0)" } ?? ""
        switch reason {
        case .deployFailed: (kind, title) = (.deployFailed, "\(repository): deploy\(place) failed")
        case .rolloutFailed: (kind, title) = (.deployFailed, "\(repository): the rollout\(place) did not become ready")
        case .drifted: (kind, title) = (.driftDetected, "\(repository): drift\(place)")
        case .selfHealed: (kind, title) = (.driftHealed, "\(repository): drift\(place) corrected")
        case .selfHealFailed: (kind, title) = (.deployFailed, "\(repository): drift\(place) re-applied, but the workloads are not healthy")
        case .quarantined: (kind, title) = (.repositoryQuarantined, "\(repository): a commit was quarantined")
        case .unverified: (kind, title) = (.sourceUnverified, "\(repository): a commit on the production branch is not verified")
        default: return nil
        }
        return event(kind, cause: ["condition", reason.rawValue, environment ?? "", "\(since)"], time: since, environment: environment,
                     link: "/repositories/\(repository)", title: title, details: [message])
    }

    /// A deploy that did not become healthy, and the version production went back to.
    public func rolledBack(run: Int64, commit: String, model: String, version: String?, to previous: String, environment: String,
                           failure: String?, time: Double) -> NotificationEvent {
        event(.deployRolledBack, cause: ["\(run)"], time: time, model: model, version: version, environment: environment, run: run,
              commit: commit, link: "/runs/\(run)",
              title: "\(model) version \(version ?? "?") was rolled back to version \(previous) in \(environment)",
              details: failure.map { [$0] } ?? [])
    }

    /// A pipeline's deploy that failed and could not be rolled back.
    public func deployFailed(run: Int64, commit: String, model: String, version: String?, environment: String, failure: String,
                             time: Double) -> NotificationEvent {
        event(.deployFailed, cause: ["run", "\(run)"], time: time, model: model, version: version, environment: environment, run: run,
              commit: commit, link: "/runs/\(run)", title: "\(model) version \(version ?? "?"): deploy to \(environment) failed", details: [failure])
    }
}
