import Foundation
import SluiceCore
import SluiceYAML
import SluiceStore

/// The index page: every repository with its health and last run, merge requests held back,
/// the latest runs with their verdicts, and the models.
struct IndexView {
    struct Repository {
        let name: String
        let health: Badge
        let lastRun: RunRow?
        let problems: [ConditionRow]
    }

    struct Held {
        let repository: String
        let ref: String
        let head: String
        let fullHead: String
        let reason: String
        let since: String
        let approve: Bool
    }

    /// A notification delivery: the latest ones, so a receiver that refuses them is seen.
    struct Notification {
        let when: String
        let event: String
        let title: String
        let link: String
        let provider: String
        let state: Badge
        let answer: String

        init(_ d: NotificationDelivery) {
            when = Format.timestamp(d.createdAt)
            event = d.event.kind.rawValue
            title = d.event.title
            link = d.event.link
            provider = d.provider
            state = Badge(d.state.rawValue, d.state == .delivered ? .ok : d.state == .failed ? .bad : d.state == .pending ? .warn : .idle)
            answer = d.lastError ?? d.lastStatus.map { "HTTP \($0)" } ?? ""
        }
    }

    let repositories: [Repository]
    let held: [Held]
    let runs: [RunRow]
    let models: [String]
    let notifications: [Notification]
}

/// A condition as the UI lists it.
struct ConditionRow {
    let badge: Badge
    let reason: String
    let message: String

    init(_ c: Condition, environment: String? = nil) {
        badge = Badge((environment.map { "\($0): " } ?? "") + "\(c.kind.rawValue)=\(c.status.rawValue)", Icons.tone(runStatus: c.status.rawValue))
        reason = c.reason
        message = c.message
    }
}

/// A repository: its conditions, its environments and the version each runs, the trend of the
/// production model's metric across versions, and its latest runs.
struct RepositoryView {
    struct Environment {
        struct Deployed {
            let model: String
            let version: String
        }
        let name: String
        let version: Deployed?
        let since: String
        let state: Badge
        let detail: String
    }

    struct Model {
        let name: String
        let chart: String
    }

    /// A merge request's preview: where it runs, how its checks went, until when.
    struct Preview {
        let mergeRequest: Int
        let place: String
        let run: Int64?
        let commit: String
        let state: Badge
        let detail: String
        let until: String

        init(_ p: RunStore.Preview) {
            mergeRequest = p.number
            place = (p.target == "branch" ? "branch " : "namespace ") + p.place
            run = p.runId
            commit = CommitID(p.commit).short
            state = Badge(p.state.rawValue, p.state == .ready ? .ok : p.state == .failed ? .bad : .warn)
            detail = p.detail
            until = Format.timestamp(p.expiresAt)
        }
    }

    let name: String
    let url: String
    let conditions: [ConditionRow]
    let environments: [Environment]
    let previews: [Preview]
    let model: Model?
    let runs: [RunRow]
}

/// A model: which version is in production, where each version is deployed, a metric across
/// the production versions, and the promotion log.
struct ModelView {
    struct Metric {
        let name: String
        let current: Bool
    }

    struct Version {
        let version: String
        let commit: String
        let run: Int64?
        let value: String
        let environments: [String]
        let created: String
        /// Its model files carry a signature (`gate.signing`; the attestations route serves it).
        let signed: Bool
    }

    struct Entry {
        let when: String
        let action: String
        let version: String
        let from: String
        let actor: String
        let reason: String
    }

    /// One gated candidate's value of the chart's metric, for the table beside the picture.
    struct Candidate {
        let run: Int64
        let verdict: String
        let value: String
        let production: String
    }

    let model: String
    let production: String?
    let metric: String
    let metrics: [Metric]
    let chart: String
    let candidates: [Candidate]
    let versions: [Version]
    let log: [Entry]
    /// The environment chain's steps, newest first (`environments:`).
    let steps: [Step]

    struct Step {
        let when: String
        let version: String
        let environment: String
        let state: Badge
        let detail: String
        let actor: String
        /// The version waits at this environment's door and the controller takes actions: a form.
        let approve: Bool
    }

    /// - Parameters:
    ///   - deployedTo: environment names by version.
    ///   - history: the model's gated candidates, oldest first (`RunCharts.gateHistory`).
    init(model: String, log: [PromotionRecord], versions: [ModelVersionRecord], deployedTo: [String: [String]], metric requested: String?,
         history: [GateReport] = [], steps: [EnvironmentStepRecord] = [], actions: Bool = false, signedRuns: Set<Int64> = []) {
        let metricsByVersion = Dictionary(versions.map { ($0.version, MetricsJSON.read($0.metrics, file: "model \(model) v\($0.version)")?.values ?? [:]) },
                                          uniquingKeysWith: { a, _ in a })
        let charts = MetricHistoryChart.charts(history)
        let names = charts.isEmpty ? Set(metricsByVersion.values.flatMap(\.keys)).sorted() : charts.map(\.name)
        let metric = requested.flatMap { names.contains($0) ? $0 : nil } ?? names.first ?? "accuracy"
        self.model = model
        production = log.last?.version
        self.metric = metric
        metrics = names.map { Metric(name: $0, current: $0 == metric) }
        chart = charts.first { $0.name == metric }?.svg ?? "<p class=\"muted\">No gated candidates yet.</p>"
        candidates = history.suffix(MetricHistoryChart.candidateLimit).reversed().compactMap { report in
            report.metrics.first { MetricHistoryChart.key($0) == metric }.map { row in
                Candidate(run: report.run, verdict: report.decision.rawValue, value: Format.number(row.candidate), production: Format.number(row.production))
            }
        }
        self.versions = versions.reversed().map { v in
            Version(version: v.version, commit: CommitID(v.commit).short, run: v.runId, value: Format.number(metricsByVersion[v.version]?[metric]),
                    environments: deployedTo[v.version] ?? [], created: Format.timestamp(v.createdAt),
                    signed: v.runId.map(signedRuns.contains) ?? false)
        }
        self.log = log.reversed().map { e in
            Entry(when: Format.timestamp(e.createdAt), action: e.action.rawValue, version: e.version, from: e.previousVersion ?? "–", actor: e.actor, reason: e.reason)
        }
        let latest = Dictionary(steps.map { ($0.version, $0.id) }, uniquingKeysWith: { _, b in b })
        self.steps = steps.suffix(50).reversed().map { s in
            let tone: Icons.Tone = s.state == .failed ? .bad : s.state == .verified || s.state == .entered ? .ok : s.state == .awaitingApproval ? .warn : .idle
            return Step(when: Format.timestamp(s.createdAt), version: s.version, environment: s.environment, state: Badge(s.state.rawValue, tone),
                        detail: s.detail, actor: s.actor + (s.reason.map { ": \($0)" } ?? ""),
                        approve: actions && s.state == .awaitingApproval && latest[s.version] == s.id)
        }
    }
}
