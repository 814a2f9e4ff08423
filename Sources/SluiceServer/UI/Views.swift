import Foundation
import SluiceCore
import SluiceStore

/// A word with its icon and colour, rendered by the `badge` template.
struct Badge {
    let tone: String
    let icon: String
    let label: String

    /// - Parameter shape: the icon, when it is not the tone's own (a running stage: a circle, in amber).
    init(_ label: String, _ tone: Icons.Tone, shape: Icons.Tone? = nil) {
        self.label = label
        self.tone = tone.rawValue
        icon = Icons.svg(shape ?? tone)
    }

    static func status(_ status: String) -> Badge {
        let tone = Icons.tone(runStatus: status)
        return Badge(status, tone, shape: tone == .warn ? .idle : nil)
    }
    static func verdict(_ verdict: String) -> Badge { Badge(verdict, Icons.tone(verdict: verdict)) }
}

/// One line of the runs tables.
struct RunRow {
    let id: Int64
    /// The watched repository's name when a watcher ran it (and its page's path), else its URL.
    let repository: String
    let link: String?
    let ref: String
    let commit: String
    let status: Badge
    let verdict: Badge?
    let started: String
    let took: String

    init(_ r: RunRecord, repositoryName: String?) {
        id = r.id!
        repository = repositoryName ?? r.repository
        link = repositoryName
        ref = Format.ref(r.ref)
        commit = CommitID(r.commit).short
        status = .status(r.status.rawValue)
        verdict = r.verdict.map(Badge.verdict)
        started = Format.timestamp(r.startedAt ?? r.createdAt)
        took = Format.seconds(r.startedAt, r.finishedAt)
    }
}

enum Format {
    static func ref(_ ref: String?) -> String {
        guard let ref else { return "" }
        return ref.hasPrefix("refs/heads/") ? String(ref.dropFirst(11)) : ref
    }

    static func seconds(_ a: Double?, _ b: Double?) -> String {
        guard let a, let b else { return "–" }
        return b - a < 1 ? "\(Int((b - a) * 1000)) ms" : String(format: "%.1f s", b - a)
    }

    static func timestamp(_ t: Double) -> String {
        let f = DateFormatter()
        f.dateFormat = "yyyy-MM-dd HH:mm:ss"
        f.timeZone = TimeZone(identifier: "UTC")
        return f.string(from: Date(timeIntervalSince1970: t))
    }

    static func number(_ v: Double?) -> String {
        guard let v else { return "–" }
        return String(format: "%.4g", v)
    }
}

/// The run page: the verdict and what decided it first, then the metrics, the deploy diff,
/// the stages and their logs (live while the run goes on).
struct RunView {
    let id: Int64
    let heading: String
    let tone: String
    let icon: String
    let why: [String]
    let status: Badge
    let repository: String
    let link: String?
    let ref: String
    let commit: String
    let trigger: String
    let took: String
    let message: String?
    let forgeProblems: [String]
    let gate: GateView?
    let deploy: DeployView?
    let diffTitle: String
    let diff: [DiffLine]
    let stages: [StageRow]
    let logs: [LogView]
    let liveURL: String?
    let actions: String?
    /// Declared plots over production's, and each gated metric over the candidates (`RunCharts`).
    var charts: [ChartView] = []

    struct ChartView {
        let name: String
        let caption: String
        let svg: String
        let url: String

        init(_ chart: RunCharts.Chart, run: Int64) {
            name = chart.name
            caption = chart.caption
            svg = chart.svg
            url = "/runs/\(run)/charts/\(chart.file)"
        }
    }

    struct GateView {
        let model: String
        let policy: String
        let production: String
        let rows: [MetricRow]
        let checks: [CheckRow]
        let notes: [String]
        let lineage: [Pair]
    }

    struct MetricRow {
        let badge: Badge
        let name: String
        let candidate: String
        let production: String
        let delta: String
        let rule: String
        let reason: String
    }

    struct CheckRow {
        let badge: Badge
        let stage: String
        let data: String
        let rows: Int
        let problems: [String]
    }

    struct Pair {
        let name: String
        let value: String
    }

    struct DeployView {
        let summary: String
        let result: Badge
    }

    struct DiffLine {
        let tone: String
        let text: String
    }

    struct StageRow {
        let name: String
        let status: Badge
        let time: String
        let cachedFrom: Int64?
        let cacheWord: String
        let scope: String?
        /// The Kubernetes Job that ran it (`namespace/name`).
        let job: String?
        let detail: String
    }

    struct LogView {
        let stage: String
        let text: String
    }

    /// - Parameter repositoryName: the watched repository's name, when a watcher ran it.
    /// - Parameter log: a stage's log (`RunStore.stageLog`).
    init(run: RunRecord, repositoryName: String?, stages: [StageResultRecord], reports: [ReportRecord], cacheOrigins: [Int64: String], actions: Bool,
         log: (StageResultRecord) throws -> Data?) throws {
        let report = try ReportRecord.gateReport(in: reports)
        id = run.id!
        (heading, tone, icon, why) = Self.verdict(run: run, report: report)
        status = .status(run.status.rawValue)
        repository = repositoryName ?? run.repository
        link = repositoryName
        ref = Format.ref(run.ref)
        commit = CommitID(run.commit).short
        trigger = run.trigger
        took = Format.seconds(run.startedAt, run.finishedAt)
        message = run.verdict == "could-not-evaluate" ? nil : run.message  // shown as the verdict's reason already
        forgeProblems = reports.filter { $0.kind == ReportRecord.notificationsKind }.map(\.content)
        gate = report.map(Self.gate)

        var deployment: DeploymentReport?
        var unreadable: String?
        if let record = reports.first(where: { $0.kind == DeploymentReport.kind }) {
            // A report this version cannot read is said on the page, not left out of it.
            do { deployment = try DeploymentReport.decode(record) } catch { unreadable = "\(error)" }
        }
        deploy = deployment.map { d in
            DeployView(summary: "\(d.model) version \(d.version) to \(d.environment) (\(d.target)\(d.commit.map { " at \(CommitID($0).short)" } ?? ""), "
                       + "\(Format.seconds(d.startedAt, d.finishedAt)))",
                       result: d.succeeded ? Badge("deployed", .ok) : Badge("failed: \(d.failure ?? "")", .bad))
        } ?? unreadable.map { DeployView(summary: "the stored deploy report could not be read (\($0))", result: Badge("unreadable", .bad)) }
        let changes = deployment.map { $0.changes + $0.pruned.map { "- \($0) (pruned)" } } ?? report?.deployChanges ?? []
        diffTitle = deployment != nil ? "What the deploy changed" : "What deploying would change"
        diff = changes.map { line in
            let mark = line.first { $0 != " " }
            return DiffLine(tone: mark == "+" ? "add" : mark == "-" ? "del" : mark == "~" ? "chg" : "", text: line)
        }

        // In the order they ran; stages that did not start last.
        let ordered = stages.sorted { ($0.startedAt ?? .infinity, $0.stage) < ($1.startedAt ?? .infinity, $1.stage) }
        self.stages = ordered.map { s in
            StageRow(name: s.stage, status: .status(s.status.rawValue), time: Format.seconds(s.startedAt, s.finishedAt), cachedFrom: s.cachedFrom,
                     cacheWord: s.status == .cached ? "cache hit" : "outputs", scope: s.cachedFrom.flatMap { cacheOrigins[$0] }.map(CacheScope.describe(storedName:)),
                     job: s.runnerJob, detail: s.message ?? s.reasons)
        }
        var sizes: [(stage: String, size: Int)] = []
        logs = ordered.compactMap { s in
            let data: Data
            do {
                guard let stored = try log(s) else { return nil }
                data = stored
            } catch {
                return LogView(stage: s.stage, text: "the log could not be read: \(error)")
            }
            // Followed from the size of the file this replica has (an archived copy is whole).
            sizes.append((s.stage, data.count))
            return LogView(stage: s.stage, text: LiveLog.tail(data))
        }
        liveURL = run.status.isFinished ? nil : "/runs/\(run.id!)/events?" + LiveLog.query(sizes)
        if actions && run.status.isFinished {
            let call = "curl -X POST -H \"Authorization: Bearer $SLUICE_API_TOKEN\" \(run.status == .succeeded ? "-d '{\"reason\": \"...\"}' " : "")"
            self.actions = run.status == .succeeded ? call + "<this server>/api/runs/\(id)/promote" : call + "<this server>/api/runs/\(id)/rerun"
        } else {
            self.actions = nil
        }
    }

    /// The heading and the one or two reasons a reader needs first.
    static func verdict(run: RunRecord, report: GateReport?) -> (String, String, String, [String]) {
        let sentences = report.map { r in
            r.decidingRows().map(GateReport.sentence)
                + r.dataChecks.filter { $0.validation.verdict == .fail }.map { "data check \($0.stage) failed on \($0.validation.data)" }
        } ?? []
        switch report?.decision.rawValue ?? run.verdict {
        case "promote":
            return ("Promoted: run \(run.id!)", "ok", Icons.svg(.ok), sentences)
        case "reject":
            return ("Rejected: run \(run.id!)", "bad", Icons.svg(.bad), sentences)
        case "report-only":
            let passed = report?.passed ?? false
            return (passed ? "Would promote (report only): run \(run.id!)" : "Would be rejected (report only): run \(run.id!)",
                    passed ? "ok" : "bad", Icons.svg(passed ? .ok : .bad), sentences + (report?.notes.prefix(1).map { $0 } ?? []))
        case "could-not-evaluate":
            return ("Could not evaluate: run \(run.id!)", "warn", Icons.svg(.warn), [run.message ?? "the gate could not be evaluated"])
        default:
            let tone = Icons.tone(runStatus: run.status.rawValue)
            return ("Run \(run.id!) \(run.status.rawValue)", tone.rawValue, Icons.svg(tone), run.message.map { [$0] } ?? [])
        }
    }

    static func gate(_ r: GateReport) -> GateView {
        let rows = r.metrics.map { m in
            MetricRow(badge: m.passed ? Badge("pass", .ok) : Badge("fail", .bad), name: m.slice.map { "\(m.metric) [\($0)]" } ?? m.metric,
                      candidate: Format.number(m.candidate), production: Format.number(m.production),
                      delta: m.delta.map { String(format: "%+.4g", $0) } ?? "–", rule: m.rule, reason: m.reason)
        }
        let checks = r.dataChecks.map { c in
            CheckRow(badge: Badge(c.validation.verdict.rawValue, c.validation.verdict == .pass ? .ok : c.validation.verdict == .warn ? .warn : .bad),
                     stage: c.stage, data: c.validation.data, rows: c.validation.rows,
                     problems: c.validation.checks.filter { $0.verdict != .pass }.map(\.message) + c.validation.drift.filter { $0.verdict != .pass }
                        .map { "drift in \($0.column): \($0.test) \(Format.number($0.statistic)) (\($0.verdict.rawValue))" })
        }
        var lineage = [Pair(name: "Commit", value: r.commit)]
        lineage += r.datasetVersions.sorted { $0.key < $1.key }.map { Pair(name: "Dataset \($0.key)", value: $0.value) }
        lineage += r.parameters.sorted { $0.key < $1.key }.map { Pair(name: "Parameters \($0.key)", value: String($0.value.prefix(80))) }
        lineage += r.artifacts.map { Pair(name: "Artifact \($0.path) (\($0.stage))", value: "\($0.digest) (\($0.size) bytes)") }
        let production = r.production.map { $0.commit.isEmpty ? "Production: \($0.version)." : "Production: version \($0.version) from commit \(CommitID($0.commit).short)." }
            ?? "No model in production yet: only absolute bounds apply."
        return GateView(model: r.model, policy: r.policy, production: production, rows: rows, checks: checks, notes: r.notes, lineage: lineage)
    }
}
