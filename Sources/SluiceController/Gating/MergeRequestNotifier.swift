import FoundationEssentials
public import SluiceCore
public import SluiceForge

/// Tells a forge about a merge request's run: a pending status when it starts, then the
/// gate report as the one Sluice comment (updated in place) and a success/failure status.
/// Forge failures never fail the run: they are returned as warnings (the report is stored
/// with the run either way).
public struct MergeRequestNotifier: Sendable {
    public let forge: any Forge
    public let mergeRequest: Int
    /// `SLUICE_REPORT_URL`, e.g. `https://sluice.example.com/runs/{run}`: the status links there.
    public let reportURLTemplate: String?

    public init(forge: any Forge, mergeRequest: Int, reportURLTemplate: String?) {
        self.forge = forge
        self.mergeRequest = mergeRequest
        self.reportURLTemplate = reportURLTemplate
    }

    func url(_ run: Int64) -> String? { reportURLTemplate?.replacing("{run}", with: String(run)) }

    public func started(commit: String, run: Int64) -> String? {
        attempt { () throws(ForgeError) in
            try forge.setStatus(commit: commit, state: .pending, description: "Sluice run \(run): running the pipeline", targetURL: url(run))
        }
    }

    /// Posts the report (or, without a gate, the run's outcome) and the final status.
    public func finished(commit: String, run: Int64, report: GateReport?, markdown: String?, runSucceeded: Bool, runMessage: String?) -> [String] {
        let passed = runSucceeded && (report?.passed ?? true)
        let body = markdown ?? Self.runOnlyComment(run: run, commit: commit, succeeded: runSucceeded, message: runMessage)
        let description: String
        if let report {
            let failed = report.metrics.filter { !$0.passed }.count
            description = report.passed ? "Gate passed: would promote \(report.model)" : "Gate failed: \(failed) rule\(failed == 1 ? "" : "s") not met"
        } else {
            description = runSucceeded ? "Pipeline succeeded" : "Pipeline failed: \(runMessage ?? "see the run's logs")"
        }
        return [
            attempt { () throws(ForgeError) in try forge.upsertComment(mergeRequest: mergeRequest, body: body, marker: GateReport.commentMarker) },
            attempt { () throws(ForgeError) in
                try forge.setStatus(commit: commit, state: passed ? .success : .failure, description: description, targetURL: url(run))
            },
        ].compactMap { $0 }
    }

    /// The head's `sluice.yaml` is invalid: a failing status and a comment listing every error.
    public func specInvalid(commit: String, errors: [String]) -> [String] {
        let body = ([GateReport.commentMarker, "## Sluice: sluice.yaml is invalid", "",
                     "Commit `\(commit.prefix(12))` was not run. Fix these and push again:", "", "```"] + errors + ["```"]).joined(separator: "\n") + "\n"
        return [
            attempt { () throws(ForgeError) in try forge.upsertComment(mergeRequest: mergeRequest, body: body, marker: GateReport.commentMarker) },
            attempt { () throws(ForgeError) in
                try forge.setStatus(commit: commit, state: .failure, description: "sluice.yaml is invalid: \(errors.count) error\(errors.count == 1 ? "" : "s")",
                                    targetURL: nil)
            },
        ].compactMap { $0 }
    }

    /// The fork policy holds the head back: a pending status while it waits for approval, a
    /// failing one when the policy never runs it.
    public func held(commit: String, reason: String, awaitingApproval: Bool) -> [String] {
        [attempt { () throws(ForgeError) in
            try forge.setStatus(commit: commit, state: awaitingApproval ? .pending : .failure, description: reason, targetURL: nil)
        }].compactMap { $0 }
    }

    static func runOnlyComment(run: Int64, commit: String, succeeded: Bool, message: String?) -> String {
        [GateReport.commentMarker, "## Sluice: \(succeeded ? "✅ pipeline succeeded" : "❌ pipeline failed")", "",
         "Commit `\(commit.prefix(12))`, run \(run)." + (message.map { " \($0)" } ?? "")].joined(separator: "\n") + "\n"
    }

    private func attempt(_ body: () throws(ForgeError) -> Void) -> String? {
        do { try body(); return nil } catch { return "\(forge.name) merge request !\(mergeRequest): \(error)" }
    }
}

extension MergeRequestNotifier {
    /// The notifier for a merge-request ref, with the forge the `SLUICE_FORGE*` settings in
    /// `environment` name; nil for other refs or without a forge. A forge that is set up wrong
    /// is passed to `warn`, and the run goes on without comments.
    public static func forRef(_ ref: String?, environment: [String: String], warn: (String) -> Void) -> MergeRequestNotifier? {
        guard let ref, let mergeRequest = ForgeConfiguration.mergeRequest(of: ref) else { return nil }
        do {
            guard let forge = try ForgeConfiguration.fromEnvironment(environment) else { return nil }
            return MergeRequestNotifier(forge: forge, mergeRequest: mergeRequest, reportURLTemplate: environment["SLUICE_REPORT_URL"])
        } catch {
            warn("merge request \(mergeRequest) gets no comment or status: \(error)")
            return nil
        }
    }
}
