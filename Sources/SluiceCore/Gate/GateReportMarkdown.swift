/// Renders a gate report as GitHub/GitLab-flavoured Markdown: headings, pipe tables and
/// plain text only (no raw HTML besides the hidden comment marker).
public enum GateReportMarkdown {
    /// What a shortened report leaves out, in this order, to fit a forge's comment limit.
    public struct Detail: Sendable {
        public var passedSlices = true
        public var dataCheckDetail = true
        public var lineage = true
        public init() {}
    }

    /// The report within `limit` characters: slices that passed go first, then the data checks'
    /// detail, then the lineage; the verdict and every failing rule always stay. Says what was
    /// left out and links to the full report (`fullReport`, the run page).
    public static func render(_ r: GateReport, limit: Int, fullReport: String?) -> String {
        let link = fullReport.map { "Full report: \($0)" } ?? "Full report: `sluice report \(r.run)`"
        var detail = Detail()
        var full = render(r, detail: detail)
        if full.count <= limit { return full }
        var omitted: [String] = []
        let steps: [(String, (inout Detail) -> Void)] = [
            ("slices that passed", { $0.passedSlices = false }), ("the data checks' detail", { $0.dataCheckDetail = false }),
            ("the lineage", { $0.lineage = false }),
        ]
        for (what, drop) in steps {
            drop(&detail)
            omitted.append(what)
            full = render(r, detail: detail) + "\n_Shortened to fit the comment limit: \(omitted.joined(separator: ", ")) left out. \(link)_\n"
            if full.count <= limit { return full }
        }
        let note = "\n\n_Cut at the comment limit. \(link)_\n"
        return String(full.prefix(max(0, limit - note.count))) + note
    }

    public static func render(_ r: GateReport) -> String { render(r, detail: Detail()) }

    static func render(_ r: GateReport, detail: Detail) -> String {
        var out: [String] = [GateReport.commentMarker]
        let verdict: String
        switch r.decision {
        case .promote: verdict = "✅ promote"
        case .reject: verdict = "❌ reject"
        case .reportOnly: verdict = r.passed ? "✅ would promote (report only)" : "❌ would be rejected (report only)"
        case .couldNotEvaluate: verdict = "⚠️ could not evaluate"
        }
        out.append("## Sluice gate: \(verdict)")
        out.append("")
        // What decided it, before anything else.
        let failedChecks = r.dataChecks.filter { $0.validation.verdict == .fail }.map(\.stage)
        for row in r.decidingRows() where r.decision != .couldNotEvaluate {
            out.append("- **\(cell(row.passed ? "passed" : "failed"))** \(cell(GateReport.sentence(row)))")
        }
        if !failedChecks.isEmpty { out.append("- **failed** data check\(failedChecks.count == 1 ? "" : "s"): \(failedChecks.map(cell).joined(separator: ", "))") }
        for reason in r.notes.prefix(r.decision == .couldNotEvaluate ? 2 : 0) { out.append("- \(cell(reason))") }
        if out.last != "" { out.append("") }
        let origin = r.run == 0 ? "" : ", commit `\(CommitID(r.commit).short)`" + (r.ref.map { " on \(code(short($0)))" } ?? "") + ", run \(r.run)"
        // `sluice gate` without --model judges metrics, not a registered model: no model line.
        out.append(r.model.isEmpty ? "Candidate metrics judged under policy \(code(r.policy))." : "Model **\(cell(r.model))**\(origin), policy \(code(r.policy)).")
        if let p = r.production {
            out.append(p.commit.isEmpty ? "Production: \(cell(p.version))." : "Production: version \(cell(p.version)) from commit `\(CommitID(p.commit).short)`.")
        } else {
            out.append("No model in production yet: only absolute bounds apply.")
        }
        out.append("")

        out.append("### Metrics")
        out.append("")
        if r.metrics.isEmpty {
            out.append("No rules.")
        } else {
            out.append("| | Metric | Candidate | Production | Δ | Rule | Result |")
            out.append("|---|---|---:|---:|---:|---|---|")
            let hidden = detail.passedSlices ? 0 : r.metrics.filter { $0.slice != nil && $0.passed }.count
            for m in r.metrics where detail.passedSlices || m.slice == nil || !m.passed {
                let name = m.slice.map { "\(m.metric) [\($0)]" } ?? m.metric
                let (candidate, production) = aligned(m.candidate, m.production)
                out.append("| \(m.passed ? "✅" : "❌") | \(cell(name)) | \(candidate) | \(production) | \(signed(m.delta)) | \(cell(m.rule)) | \(cell(m.reason)) |")
            }
            if hidden > 0 { out.append("| | \(hidden) slice\(hidden == 1 ? "" : "s") that passed | | | | | not shown |") }
        }
        out.append("")

        if r.run != 0 || !r.dataChecks.isEmpty {
            out.append("### Data checks")
            out.append("")
        }
        if r.dataChecks.isEmpty, r.run != 0 {
            out.append("No data validation stage ran.")
        }
        for check in r.dataChecks {
            let v = check.validation
            out.append("**\(cell(check.stage))** on \(code(v.data)) (\(v.rows) rows): \(icon(v.verdict)) \(v.verdict.rawValue)")
            out.append("")
            guard detail.dataCheckDetail else { continue }
            let failed = v.checks.filter { $0.verdict != .pass }
            if failed.isEmpty {
                out.append("All \(v.checks.count) schema checks passed.")
            } else {
                out.append("| | Column | Check | Problem | Lines |")
                out.append("|---|---|---|---|---|")
                for c in failed {
                    out.append("| \(icon(c.verdict)) | \(cell(c.column ?? "(file)")) | \(cell(c.check)) | \(cell(c.message)) | \(c.examples.map { String($0.line) }.joined(separator: ", ")) |")
                }
            }
            out.append("")
            if !v.drift.isEmpty {
                out.append("Drift against \(cell(v.reference ?? "the reference")):")
                out.append("")
                out.append("| | Column | Test | Statistic | p-value | Warn / fail at |")
                out.append("|---|---|---|---:|---:|---|")
                for d in v.drift {
                    out.append("| \(icon(d.verdict)) | \(cell(d.column)) | \(d.test) | \(number(d.statistic)) | \(number(d.pValue)) | \(d.thresholdOn == "p-value" ? "p < " : "> ")\(number(d.warn)) / \(number(d.fail)) |")
                }
                out.append("")
            }
            for note in v.notes { out.append("- \(cell(note))") }
            if !v.notes.isEmpty { out.append("") }
        }

        if r.run == 0 {  // a standalone `sluice gate`: no run, so no stages or lineage
            if !r.notes.isEmpty {
                out.append("### Notes")
                out.append("")
                out.append(contentsOf: r.notes.map { "- \(cell($0))" })
            }
            return out.joined(separator: "\n") + "\n"
        }
        out.append("### Stages")
        out.append("")
        out.append("| Stage | Result | Time |")
        out.append("|---|---|---:|")
        for s in r.stages {
            out.append("| \(cell(s.stage)) | \(s.status) | \(s.seconds.map(duration) ?? "–") |")
        }
        out.append("")

        if detail.lineage {
            out.append("### Lineage")
            out.append("")
            out.append("| | |")
            out.append("|---|---|")
            out.append("| Commit | `\(r.commit)` |")
            for (name, version) in r.datasetVersions.sorted(by: { $0.key < $1.key }) {
                out.append("| Dataset \(code(name)) | \(code(version)) |")
            }
            for (name, value) in r.parameters.sorted(by: { $0.key < $1.key }) {
                out.append("| Parameters \(code(name)) | \(code(String(value.prefix(80)))) |")
            }
            for a in r.artifacts {
                out.append("| Artifact \(code(a.path)) (\(cell(a.stage))) | `\(a.digest)` (\(a.size) bytes) |")
            }
            out.append("")
        }

        out.append("### Deploying would change")
        out.append("")
        if let changes = r.deployChanges {
            out.append(contentsOf: changes.isEmpty ? ["Nothing."] : changes.map { "- \(cell($0))" })
        } else {
            out.append("Not computed (no deploy step).")
        }
        if !r.notes.isEmpty {
            out.append("")
            out.append("### Notes")
            out.append("")
            out.append(contentsOf: r.notes.map { "- \(cell($0))" })
        }
        return out.joined(separator: "\n") + "\n"
    }

    static func icon(_ v: ValidationReport.Verdict) -> String {
        switch v {
        case .pass: return "✅"
        case .warn: return "⚠️"
        case .fail: return "❌"
        }
    }

    static func short(_ ref: String) -> String {
        ref.hasPrefix("refs/heads/") ? String(ref.dropFirst(11)) : ref
    }

    /// Table-cell text: pipes escaped, newlines flattened, angle brackets spelled out so
    /// nothing a user wrote is read as HTML.
    static func cell(_ s: String) -> String {
        s.replacing("\\", with: "\\\\").replacing("|", with: "\\|")
            .replacing("\n", with: " ").replacing("<", with: "&lt;").replacing(">", with: "&gt;")
    }

    /// A CommonMark code span around any text: the fence is one backtick longer than the
    /// longest run inside, padded with spaces when the text starts or ends with one (so a
    /// branch named ``a`b`` stays one span); pipes escaped for table cells, newlines flattened.
    static func code(_ s: String) -> String {
        let text = s.replacing("\n", with: " ").replacing("|", with: "\\|")
        var longest = 0, run = 0
        for c in text {
            run = c == "`" ? run + 1 : 0
            longest = max(longest, run)
        }
        let fence = String(repeating: "`", count: longest + 1)
        let pad = text.hasPrefix("`") || text.hasSuffix("`") ? " " : ""
        return fence + pad + text + pad + fence
    }

    static func number(_ v: Double?) -> String {
        guard let v else { return "–" }
        if v.isNaN { return "NaN" }
        if v == 0 { return "0" }
        if abs(v) >= 1e-4, abs(v) < 1e6 {
            return MetricRange.text((v * 1e4).rounded() / 1e4)
        }
        return NumberText.short(v)
    }

    /// Two numbers shown side by side with as many decimals each (0.800 beside 0.815, not 0.8).
    static func aligned(_ a: Double?, _ b: Double?) -> (String, String) {
        var x = number(a), y = number(b)
        func decimals(_ s: String) -> Int? {
            guard s.allSatisfy({ $0.isNumber || $0 == "." || $0 == "-" }) else { return nil }
            return s.firstIndex(of: ".").map { s.distance(from: $0, to: s.endIndex) - 1 } ?? 0
        }
        guard let dx = decimals(x), let dy = decimals(y), a != nil, b != nil else { return (x, y) }
        func pad(_ s: inout String, _ have: Int, _ want: Int) {
            guard want > have else { return }
            if have == 0 { s += "." }
            s += String(repeating: "0", count: want - have)
        }
        pad(&x, dx, max(dx, dy))
        pad(&y, dy, max(dx, dy))
        return (x, y)
    }

    static func signed(_ v: Double?) -> String {
        guard let v else { return "–" }
        return (v > 0 ? "+" : "") + number(v)
    }

    static func duration(_ s: Double) -> String {
        guard s.isFinite, s >= 0, s < 1e9 else { return "\(s) s" }
        return s < 1 ? "\(Int(s * 1000)) ms" : s < 60 ? "\(number((s * 10).rounded() / 10)) s" : "\(Int(s) / 60) min \(Int(s) % 60) s"
    }
}
