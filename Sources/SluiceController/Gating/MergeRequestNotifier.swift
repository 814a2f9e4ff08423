import FoundationEssentials
public import SluiceCore
public import SluiceForge
public import SluiceServer

/// A forge answer other than success while reporting on a merge request.
public struct NotificationProblem: Sendable, Hashable, CustomStringConvertible {
    public var forge: String
    /// The HTTP status (nil: no answer).
    public var status: Int?
    public var message: String
    public var description: String { message }
}

/// A stage that did not succeed, for a failed pipeline's comment.
public struct FailedStage: Sendable, Hashable {
    public var stage: String
    public var reason: String
    /// The last lines of its log (already masked).
    public var logTail: [String]

    public init(stage: String, reason: String, logTail: [String]) {
        self.stage = stage
        self.reason = reason
        self.logTail = logTail
    }
}

/// Tells a forge about a merge request's run: a pending status when it starts, then the
/// gate report as the one Sluice comment (updated in place) and a success/failure status.
/// Every comment and status links to the run page. Forge failures never fail the run: they are
/// returned as problems (the controller turns them into a condition, a metric, a log line and
/// a line on the run page; the report is stored with the run either way).
public struct MergeRequestNotifier: Sendable {
    public let forge: any Forge
    public private(set) var mergeRequest: Int
    /// `SLUICE_REPORT_URL` (e.g. `https://sluice.example.com/runs/{run}`), else
    /// `SLUICE_ADVERTISE_URL` + `/runs/{run}`: the run page that statuses and comments link to.
    public let reportURLTemplate: String?
    /// `SLUICE_ADVERTISE_URL`: where the controller serves each run's charts as images
    /// (`/runs/<n>/charts/<file>`); without it the comment has no pictures.
    public var chartBase: String?
    /// `SLUICE_CHART_FORMAT=png`: link PNG copies (for a forge that will not show SVG images).
    public var chartsAsPNG = false
    /// Why this process may not post now, nil when it may: a controller replica whose leadership
    /// term is over posts nothing (the replica that leads does; see `LeadershipTerm`).
    public var fence: (@Sendable (_ act: String) -> String?)?

    public init(forge: any Forge, mergeRequest: Int, reportURLTemplate: String?) {
        self.forge = forge
        self.mergeRequest = mergeRequest
        self.reportURLTemplate = reportURLTemplate
    }

    /// The same notifier for another merge request of the repository.
    public func on(mergeRequest number: Int) -> MergeRequestNotifier {
        var other = self
        other.mergeRequest = number
        return other
    }

    /// The chosen charts as Markdown images linking the controller's copies ("" without an address).
    func pictures(_ charts: [RunCharts.Chart], run: Int64) -> String {
        guard let base = chartBase.map({ $0.hasSuffix("/") ? String($0.dropLast()) : $0 }), !charts.isEmpty else { return "" }
        return "\n### Pictures\n\n" + charts.map { chart in
            let file = chartsAsPNG ? String(chart.file.dropLast(4)) + ".png" : chart.file
            return "![\(chart.caption.replacing("]", with: ")"))](\(base)/runs/\(run)/charts/\(file))"
        }
            .joined(separator: "\n") + "\n"
    }

    func url(_ run: Int64) -> String? { RunPageLink(template: reportURLTemplate).url(run) }

    /// "run 14" as a Markdown link to its page when there is one.
    func runLink(_ run: Int64) -> String { url(run).map { "[run \(run)](\($0))" } ?? "run \(run)" }

    public func started(commit: String, run: Int64) -> [NotificationProblem] {
        attempt { () throws(ForgeError) in
            try forge.setStatus(commit: commit, state: .pending, description: "Sluice run \(run): running the pipeline", targetURL: url(run))
        }
    }

    /// Posts the report (or, without one, what became of the run) and the final status.
    /// - Parameters:
    ///   - gateError: the gate could not be evaluated (a policy or metrics error): said as such.
    ///   - failures: the stages that did not succeed, for a failed pipeline's comment.
    ///   - charts: the run's charts (`RunCharts`); the most telling are shown as images.
    public func finished(commit: String, run: Int64, report: GateReport?, runSucceeded: Bool, runMessage: String?,
                         gateError: String? = nil, failures: [FailedStage] = [], charts: [RunCharts.Chart] = []) -> [NotificationProblem] {
        let passed = RunPassed.decide(stagesSucceeded: runSucceeded, gateEvaluated: gateError == nil, candidatePassed: report?.passed)
        let body: String
        let description: String
        if let gateError {
            body = Self.gateErrorComment(run: runLink(run), commit: commit, error: gateError)
            description = "Gate could not be evaluated: \(gateError)"
        } else if let report {
            let pictures = pictures(RunCharts.telling(charts, report: report), run: run)
            body = GateReportMarkdown.render(report, limit: forge.commentLimit - pictures.count, fullReport: url(run)) + pictures
                + (url(run).map { "\n[The run's page](\($0))\n" } ?? "")
            let failed = report.metrics.filter { !$0.passed }.count
            description = report.passed ? "Gate passed: would promote \(report.model)" : "Gate failed: \(failed) rule\(failed == 1 ? "" : "s") not met"
        } else {
            body = Self.runOnlyComment(run: runLink(run), commit: commit, succeeded: runSucceeded, message: runMessage, failures: failures)
            description = runSucceeded ? "Pipeline succeeded" : "Pipeline failed: \(failures.first.map { "\($0.stage): \($0.reason)" } ?? runMessage ?? "see the run's logs")"
        }
        return attempt { () throws(ForgeError) in
            try forge.upsertComment(mergeRequest: mergeRequest, body: String(body.prefix(forge.commentLimit)), marker: GateReport.commentMarker)
        } + attempt { () throws(ForgeError) in
            try forge.setStatus(commit: commit, state: passed ? .success : .failure, description: description, targetURL: url(run))
        }
    }

    /// Creates or updates the merge request's preview comment.
    func preview(_ body: String) -> [NotificationProblem] {
        attempt { () throws(ForgeError) in
            try forge.upsertComment(mergeRequest: mergeRequest, body: String(body.prefix(forge.commentLimit)), marker: PreviewComment.marker)
        }
    }

    /// The head's `sluice.yaml` is invalid: a failing status and a comment listing every error.
    public func specInvalid(commit: String, errors: [String]) -> [NotificationProblem] {
        let body = ([GateReport.commentMarker, "## Sluice: sluice.yaml is invalid", "",
                     "Commit `\(CommitID(commit).short)` was not run. Fix these and push again:", ""] + Self.fenced(errors)).joined(separator: "\n") + "\n"
        return attempt { () throws(ForgeError) in
            try forge.upsertComment(mergeRequest: mergeRequest, body: body, marker: GateReport.commentMarker)
        } + attempt { () throws(ForgeError) in
            try forge.setStatus(commit: commit, state: .failure, description: "sluice.yaml is invalid: \(errors.count) error\(errors.count == 1 ? "" : "s")",
                                targetURL: nil)
        }
    }

    /// The fork policy holds the head back: a pending status while it waits for approval, a
    /// failing one when the policy never runs it.
    public func held(commit: String, reason: String, awaitingApproval: Bool) -> [NotificationProblem] {
        attempt { () throws(ForgeError) in
            try forge.setStatus(commit: commit, state: awaitingApproval ? .pending : .failure, description: reason, targetURL: nil)
        }
    }

    static func gateErrorComment(run: String, commit: String, error: String) -> String {
        ([GateReport.commentMarker, "## Sluice gate: ⚠️ could not evaluate", "",
          "Commit `\(CommitID(commit).short)`, \(run). The pipeline ran, but the gate could not decide, so nothing was promoted:", ""]
         + fenced([error]) + ["", "Fix it and push again (or re-run the run once the cause is fixed elsewhere)."]).joined(separator: "\n") + "\n"
    }

    static func runOnlyComment(run: String, commit: String, succeeded: Bool, message: String?, failures: [FailedStage] = []) -> String {
        var lines = [GateReport.commentMarker, "## Sluice: \(succeeded ? "✅ pipeline succeeded" : "❌ pipeline failed")", "",
                     "Commit `\(CommitID(commit).short)`, \(run)." + (failures.isEmpty ? message.map { " \($0)" } ?? "" : "")]
        for f in failures {
            lines += ["", "**Stage `\(f.stage.replacing("`", with: "'"))` \(f.reason)**"]
            if !f.logTail.isEmpty { lines += ["", "The last lines of its log:", ""] + fenced(f.logTail) }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Lines in a code block whose fence no line can close (a longer run of backticks than any inside).
    static func fenced(_ lines: [String]) -> [String] {
        var longest = 0
        for line in lines {
            var run = 0
            for ch in line { run = ch == "`" ? run + 1 : 0; longest = max(longest, run) }
        }
        let fence = String(repeating: "`", count: max(3, longest + 1))
        return [fence] + lines + [fence]
    }

    private func attempt(_ body: () throws(ForgeError) -> Void) -> [NotificationProblem] {
        if let refusal = fence?("posting to \(forge.label(mergeRequest: mergeRequest)) on \(forge.name)") {
            return [NotificationProblem(forge: forge.name, status: nil, message: refusal)]
        }
        do { try body(); return [] } catch {
            return [NotificationProblem(forge: forge.name, status: error.status, message: "\(forge.label(mergeRequest: mergeRequest)) on \(forge.name): \(error)")]
        }
    }
}

extension MergeRequestNotifier {
    /// The notifier for a merge-request ref, with the forge the `SLUICE_FORGE*` settings in
    /// `environment` name; nil for other refs or without a forge. A forge that is set up wrong
    /// is passed to `warn`, and the run goes on without comments.
    public static func forRef(_ ref: String?, environment: [String: String], warn: (String) -> Void) -> MergeRequestNotifier? {
        guard let ref, let mergeRequest = MergeRequestRef.number(of: ref) else { return nil }
        do {
            guard let forge = try ForgeConfiguration.fromEnvironment(environment) else { return nil }
            var notifier = MergeRequestNotifier(forge: forge, mergeRequest: mergeRequest, reportURLTemplate: RunPageLink(environment: environment).template)
            notifier.chartBase = environment["SLUICE_ADVERTISE_URL"]
            notifier.chartsAsPNG = environment["SLUICE_CHART_FORMAT"] == "png"
            return notifier
        } catch {
            warn("merge request \(mergeRequest) gets no comment or status: \(error)")
            return nil
        }
    }
}
