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

    let name: String
    let url: String
    let conditions: [ConditionRow]
    let environments: [Environment]
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

    let model: String
    let production: String?
    let metric: String
    let metrics: [Metric]
    let chart: String
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

    /// - Parameter deployedTo: environment names by version.
    init(model: String, log: [PromotionRecord], versions: [ModelVersionRecord], deployedTo: [String: [String]], metric requested: String?,
         steps: [EnvironmentStepRecord] = [], actions: Bool = false, signedRuns: Set<Int64> = []) {
        let metricsByVersion = Dictionary(versions.map { ($0.version, MetricsJSON.read($0.metrics, file: "model \(model) v\($0.version)")?.values ?? [:]) },
                                          uniquingKeysWith: { a, _ in a })
        let names = Set(metricsByVersion.values.flatMap(\.keys)).sorted()
        let metric = requested ?? names.first ?? "accuracy"
        self.model = model
        production = log.last?.version
        self.metric = metric
        metrics = names.map { Metric(name: $0, current: $0 == metric) }
        chart = Chart.svg(log.compactMap { e in metricsByVersion[e.version]?[metric].map { ($0, "v\(e.version) \(e.action.rawValue)") } }, metric: metric)
        self.versions = versions.reversed().map { v in
            Version(version: v.version, commit: String(v.commit.prefix(12)), run: v.runId, value: Format.number(metricsByVersion[v.version]?[metric]),
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

/// A line chart of one metric, one step per promotion or rollback, as inline SVG that scales
/// to its box (times are in the tables: promotions can be minutes or months apart).
enum Chart {
    static func svg(_ points: [(value: Double, label: String)], metric: String) -> String {
        guard !points.isEmpty else { return "<p class=\"muted\">No promotions yet.</p>" }
        let w = 640.0, h = 240.0, left = 70.0, right = 24.0, top = 34.0, bottom = 34.0
        let ys = points.map(\.value)
        var (y0, y1) = (ys.min()!, ys.max()!)
        if y1 - y0 < 1e-9 { y0 -= 0.5; y1 += 0.5 }
        let span = Double(max(1, points.count - 1))
        func px(_ i: Int) -> Double { points.count == 1 ? (left + w - right) / 2 : left + Double(i) / span * (w - left - right) }
        func py(_ y: Double) -> Double { h - bottom - (y - y0) / (y1 - y0) * (h - top - bottom) }
        let line = points.indices.map { String(format: "%.1f,%.1f", px($0), py(points[$0].value)) }.joined(separator: " ")
        var svg = "<svg class=\"chart\" viewBox=\"0 0 \(Int(w)) \(Int(h))\" role=\"img\" aria-label=\"\(HTML.escape(metric)) of the production model, per promotion\">"
        svg += "<rect x=\"0.5\" y=\"0.5\" width=\"\(Int(w) - 1)\" height=\"\(Int(h) - 1)\" fill=\"#fff\" stroke=\"#d9dee7\"/>"
        svg += "<text x=\"\(Int(left))\" y=\"22\" font-size=\"13\" fill=\"#1d2330\">\(HTML.escape(metric)) of the production model</text>"
        // The axis labels sit left of the plot area, clear of the first point.
        for value in [y1, y0] {
            svg += String(format: "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#eef0f4\"/>", left, w - right, py(value), py(value))
            svg += String(format: "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" text-anchor=\"end\" fill=\"#5b6475\">%@</text>", left - 8, py(value) + 4, Format.number(value))
        }
        svg += "<polyline fill=\"none\" stroke=\"#0b57b0\" stroke-width=\"2\" points=\"\(line)\"/>"
        for (i, p) in points.enumerated() {
            svg += String(format: "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\" fill=\"#0b57b0\"><title>%@: %@</title></circle>", px(i), py(p.value), HTML.escape(p.label), Format.number(p.value))
            svg += String(format: "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" text-anchor=\"middle\" fill=\"#5b6475\">%@</text>", px(i), h - 12, HTML.escape(String(p.label.split(separator: " ").first ?? "")))
        }
        return svg + "</svg>"
    }
}
