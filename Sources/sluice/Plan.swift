import ArgumentParser
import FoundationEssentials
import SluiceController
import SluiceCore

struct Plan: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Show which stages a commit must run, and why.",
        discussion: """
        Exit 0 with a plan (also when nothing needs to run), 1 when sluice.yaml is invalid or --verify-* refuses the commit \
        (nothing would run), 2 when the repository or revision cannot be read.
        """
    )

    @OptionGroup var global: GlobalOptions

    @Option(help: "The commit to plan (any revision; default HEAD).")
    var commit: String = "HEAD"

    @Option(help: "Compare against this revision instead of the commit's first parent.")
    var since: String?

    @Option(help: "Plan this ref's head against the last commit Sluice processed on it (e.g. main, refs/pull/7/head).")
    var ref: String?

    @OptionGroup var verify: VerifyOptions

    func run() async throws {
        let outcome: CommitPlanner.Outcome
        do {
            switch try CommitPlanning.plan(location: global.repo, stateDirectory: global.stateDirectory, environment: ProcessInfo.processInfo.environment,
                                           revision: commit, since: since, ref: ref, verify: verify.settings, onRetry: { Output.err("sluice: \($0)") }) {
            case .planned(let planned): outcome = planned
            case .nothingNew(let ref, let last):
                Output.out("\(ref): nothing new since \(last)")
                return
            }
        } catch {
            throw Output.fail(error)
        }
        switch global.format {
        case .json:
            try Output.json(PlanReport(commit: outcome.commit, plan: outcome.plan, notes: outcome.notes,
                                       diagnostics: DiagnosticRenderer.sorted(outcome.diagnostics), source: outcome.source.map(PlanReport.Source.init)))
        case .text:
            for d in DiagnosticRenderer.sorted(outcome.diagnostics) { Output.err(DiagnosticRenderer.line(d)) }
            for note in outcome.notes { Output.out("note: \(note)") }
            switch outcome.source {
            case .verified(let signer)?: Output.out("source: verified, signed by \(signer)")
            case .refused(let why)?: Output.out("source: NOT verified: \(why); nothing would run")
            case nil: break
            }
            if let plan = outcome.plan { Output.out(Self.table(plan)) }
        }
        if outcome.plan == nil, outcome.diagnostics.hasErrors { throw ExitCode(1) }
        if case .refused? = outcome.source { throw ExitCode(1) }
    }

    static func table(_ plan: SluiceCore.Plan) -> String {
        var lines = ["commit \(plan.commit.prefix(12))" + (plan.baseCommit.map { " (since \($0.prefix(12)))" } ?? " (no base: first commit)")]
        let width = max(5, plan.stages.map(\.name.count).max() ?? 0)
        func pad(_ s: String, _ n: Int) -> String { s + String(repeating: " ", count: max(0, n - s.count)) }
        lines.append(pad("STAGE", width) + "  " + pad("DECISION", 8) + "  REASON")
        for stage in plan.stages {
            lines.append(pad(stage.name, width) + "  " + pad(stage.decision.rawValue, 8) + "  " + stage.reasons.joined(separator: "; "))
        }
        let n = plan.stagesToRun.count
        lines.append(n == 0 ? "nothing to run" : "\(n) of \(plan.stages.count) stages run")
        return lines.joined(separator: "\n")
    }
}

struct PlanReport: Encodable {
    var commit: String
    var plan: SluiceCore.Plan?
    var notes: [String]
    var diagnostics: [Diagnostic]
    /// With --verify-*: whether the commits may run.
    var source: Source?

    struct Source: Encodable {
        var verified: Bool
        /// The signer, or why the commit may not run.
        var detail: String

        init(_ outcome: SourceVerification.Outcome) {
            switch outcome {
            case .verified(let signer): (verified, detail) = (true, signer)
            case .refused(let why): (verified, detail) = (false, why)
            }
        }
    }
}
