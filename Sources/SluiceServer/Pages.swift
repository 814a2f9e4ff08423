import Foundation
import Ink
import SluiceController
import SluiceCore
import SluiceStore

/// The web UI's pages: server-rendered HTML, no scripts, no build step.
enum Pages {
    static func layout(_ title: String, refresh: Bool = false, _ body: String) -> String {
        """
        <!doctype html><html><head><meta charset="utf-8"><title>\(escape(title)) · Sluice</title>\(refresh ? "<meta http-equiv=\"refresh\" content=\"2\">" : "")
        <style>
        body{font-family:system-ui,sans-serif;margin:2em;color:#222}a{color:#0b5cad}
        table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 10px;text-align:left;vertical-align:top}
        th{background:#f3f3f3}pre{background:#f6f6f6;padding:1em;overflow:auto;max-height:30em}
        .succeeded,.cached,.skipped,.healthy{color:#107a10}.failed,.blocked,.unhealthy,.interrupted,.cancelled{color:#b00020}.running{color:#a66400}
        nav a{margin-right:1em}.diff .add{color:#107a10}.diff .del{color:#b00020}.diff .chg{color:#a66400}
        </style></head><body><nav><a href="/">Sluice</a></nav>\(body)</body></html>
        """
    }

    /// The CSS class a verdict is shown in: promote green, reject and could-not-evaluate red.
    static func verdictClass(_ verdict: String) -> String {
        switch verdict {
        case "promote": return "succeeded"
        case "reject", "could-not-evaluate": return "failed"
        default: return ""
        }
    }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
            .replacingOccurrences(of: "\"", with: "&quot;")
    }

    static func seconds(_ a: Double?, _ b: Double?) -> String {
        guard let a, let b else { return "–" }
        return b - a < 1 ? "\(Int((b - a) * 1000)) ms" : String(format: "%.1f s", b - a)
    }

    /// A run: stages (states, durations), each stage's log tail, the gate report and the manifest diff.
    /// - Parameter actions: the server takes actions (a token is configured): show how.
    /// - Parameter cacheOrigins: the cache scope of each run a stage's cached result came from.
    /// "from run 12 (the production branch): " for a stage whose result was restored.
    static func cacheOrigin(_ s: StageResultRecord, _ origins: [Int64: String]) -> String {
        guard let source = s.cachedFrom else { return "" }
        let scope = origins[source].map { " (\(escape(CacheScope.describe(storedName: $0))))" } ?? ""
        return "\(s.status == .cached ? "cache hit" : "outputs") from <a href=\"/runs/\(source)\">run \(source)</a>\(scope): "
    }

    static func run(_ run: RunRecord, stages: [StageResultRecord], reports: [ReportRecord], cacheOrigins: [Int64: String] = [:],
                    actions: Bool = false) -> String {
        var body = "<h1>Run \(run.id!) <span class=\"\(run.status.rawValue)\">\(run.status.rawValue)</span>"
            + (run.verdict.map { " · verdict <span class=\"\(verdictClass($0))\">\(escape($0))</span>" } ?? "") + "</h1>"
        body += "<p>\(escape(run.repository)) · commit <code>\(run.commit.prefix(12))</code> · \(escape(run.ref ?? "")) · \(escape(run.trigger))</p>"
        if let message = run.message { body += "<p>\(escape(message))</p>" }
        for forge in reports where forge.kind == CommitPipeline.notificationsReportKind {
            body += "<p class=\"unhealthy\">The merge request was not updated: \(escape(forge.content))</p>"
        }
        body += "<table><tr><th>Stage</th><th>State</th><th>Time</th><th>Detail</th></tr>"
        // In the order they ran; stages that did not start last.
        let stages = stages.sorted { ($0.startedAt ?? .infinity, $0.stage) < ($1.startedAt ?? .infinity, $1.stage) }
        for s in stages {
            body += "<tr><td><a href=\"#log-\(escape(s.stage))\">\(escape(s.stage))</a></td><td class=\"\(s.status.rawValue)\">\(s.status.rawValue)</td>"
                + "<td>\(seconds(s.startedAt, s.finishedAt))</td><td>\(cacheOrigin(s, cacheOrigins))\(escape(s.message ?? s.reasons))</td></tr>"
        }
        body += "</table>"
        if let report = (try? GateService.report(in: reports)) ?? nil {
            body += "<section id=\"gate\">" + MarkdownParser().html(from: GateReportMarkdown.render(report)) + "</section>"
        }
        if let deploy = reports.first(where: { $0.kind == DeploymentReport.kind }).flatMap(DeploymentReport.decode) {
            body += deployment(deploy)
        }
        for s in stages {
            guard let path = s.logPath, let data = FileManager.default.contents(atPath: path) else { continue }
            let lines = String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).suffix(200)
            body += "<h3 id=\"log-\(escape(s.stage))\">Log: \(escape(s.stage))</h3><pre>\(escape(lines.joined(separator: "\n")))</pre>"
        }
        if actions && run.status.isFinished {
            let id = run.id!
            let call = "curl -X POST -H \"Authorization: Bearer $SLUICE_API_TOKEN\" \(run.status == .succeeded ? "-d '{\"reason\": \"...\"}' " : "")"
            body += "<section id=\"actions\"><h2>Actions</h2><pre>"
                + escape(run.status == .succeeded ? call + "<this server>/api/runs/\(id)/promote" : call + "<this server>/api/runs/\(id)/rerun")
                + "</pre></section>"
        }
        return layout("Run \(run.id!)", refresh: !run.status.isFinished, body)
    }

    /// Where the run's model went, and the manifest diff it wrote.
    static func deployment(_ d: DeploymentReport) -> String {
        var html = "<section id=\"deploy\"><h2>Deploy</h2><p>\(escape(d.model)) version \(escape(d.version)) to \(escape(d.environment)) · "
            + "\(escape(d.target))\(d.commit.map { " at <code>\($0.prefix(12))</code>" } ?? "") · \(seconds(d.startedAt, d.finishedAt)) · "
            + (d.succeeded ? "<span class=\"succeeded\">deployed</span>" : "<span class=\"failed\">failed: \(escape(d.failure ?? ""))</span>") + "</p>"
        let lines = d.changes + d.pruned.map { "- \($0) (pruned)" }
        html += lines.isEmpty ? "<p>The environment already held these manifests.</p>"
            : "<h3>Manifest diff</h3><pre class=\"diff\">" + lines.map { line in
                let mark = line.first { $0 != " " }
                let cls = mark == "+" ? "add" : mark == "-" ? "del" : mark == "~" ? "chg" : ""
                return cls.isEmpty ? escape(line) : "<span class=\"\(cls)\">\(escape(line))</span>"
            }.joined(separator: "\n") + "</pre>"
        return html + "</section>"
    }

    /// The promotion log of a model, and a plot of one metric of each production version over time.
    static func promotions(model: String, log: [PromotionRecord], versions: [ModelVersionRecord], metric requested: String?) -> String {
        let byVersion = Dictionary(versions.map { ($0.version, $0) }, uniquingKeysWith: { a, _ in a })
        func value(_ version: String, _ metric: String) -> Double? {
            guard let v = byVersion[version], let json = try? JSONSerialization.jsonObject(with: Data(v.metrics.utf8)) as? [String: Any] else { return nil }
            return (json[metric] as? NSNumber)?.doubleValue
        }
        let metrics = versions.first.flatMap { v in (try? JSONSerialization.jsonObject(with: Data(v.metrics.utf8)) as? [String: Any])?
            .compactMap { $0.value is NSNumber ? $0.key : nil }.sorted() } ?? []
        let metric = requested ?? metrics.first ?? "accuracy"
        var body = "<h1>\(escape(model)): promotion history</h1>"
        body += "<p>Metric: " + metrics.map { m in m == metric ? "<b>\(escape(m))</b>" : "<a href=\"?metric=\(escape(m))\">\(escape(m))</a>" }.joined(separator: " · ") + "</p>"
        let points = log.compactMap { e in value(e.version, metric).map { (e.createdAt, $0, e) } }
        body += plot(points.map { ($0.0, $0.1, "v\($0.2.version) \($0.2.action.rawValue)") }, metric: metric)
        body += "<table><tr><th>When (UTC)</th><th>Action</th><th>Version</th><th>From</th><th>Commit</th><th>\(escape(metric))</th><th>Who</th><th>Why</th></tr>"
        for e in log.reversed() {
            body += "<tr><td>\(timestamp(e.createdAt))</td><td>\(e.action.rawValue)</td><td>\(escape(e.version))</td><td>\(escape(e.previousVersion ?? "–"))</td>"
                + "<td><code>\(e.commit.prefix(12))</code></td><td>\(value(e.version, metric).map { String(format: "%.4g", $0) } ?? "–")</td>"
                + "<td>\(escape(e.actor))</td><td>\(escape(e.reason))</td></tr>"
        }
        body += "</table>"
        return layout("\(model) promotions", body)
    }

    /// An SVG line plot, in the page itself (no scripts, no images to fetch). One step per
    /// promotion or rollback, in order (times are in the table: promotions can be minutes or
    /// months apart).
    static func plot(_ timed: [(Double, Double, String)], metric: String) -> String {
        guard !timed.isEmpty else { return "<p>No promotions yet.</p>" }
        let points = timed.enumerated().map { (Double($0.offset), $0.element.1, $0.element.2) }
        let w = 640.0, h = 240.0, pad = 40.0
        let ys = points.map(\.1)
        let (x0, x1) = (0.0, max(1.0, Double(points.count - 1)))
        var (y0, y1) = (ys.min()!, ys.max()!)
        if y1 - y0 < 1e-9 { y0 -= 0.5; y1 += 0.5 }
        func px(_ x: Double) -> Double { pad + (x - x0) / (x1 - x0) * (w - 2 * pad) }
        func py(_ y: Double) -> Double { h - pad - (y - y0) / (y1 - y0) * (h - 2 * pad) }
        let path = points.map { String(format: "%.1f,%.1f", px($0.0), py($0.1)) }.joined(separator: " ")
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(w))\" height=\"\(Int(h))\" role=\"img\" aria-label=\"\(escape(metric)) of production over time\">"
        svg += "<rect width=\"100%\" height=\"100%\" fill=\"#fff\" stroke=\"#ccc\"/>"
        svg += "<text x=\"\(pad)\" y=\"20\" font-size=\"13\">\(escape(metric)) of the production model</text>"
        svg += String(format: "<text x=\"4\" y=\"%.1f\" font-size=\"11\">%.4g</text><text x=\"4\" y=\"%.1f\" font-size=\"11\">%.4g</text>", py(y1) + 4, y1, py(y0) + 4, y0)
        svg += "<polyline fill=\"none\" stroke=\"#0b5cad\" stroke-width=\"2\" points=\"\(path)\"/>"
        for p in points {
            svg += String(format: "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\" fill=\"#0b5cad\"><title>%@: %.4g</title></circle>", px(p.0), py(p.1), escape(p.2), p.1)
        }
        return svg + "</svg>"
    }

    static func timestamp(_ t: Double) -> String {
        let f = DateFormatter()
        f.dateFormat = "yyyy-MM-dd HH:mm:ss"
        f.timeZone = TimeZone(identifier: "UTC")
        return f.string(from: Date(timeIntervalSince1970: t))
    }
}
