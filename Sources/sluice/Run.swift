import ArgumentParser
import Dispatch
import FoundationEssentials
import SluiceController
import SluiceCore
#if canImport(Glibc)
import Glibc
#endif

struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a commit's pipeline once: plan, run the stages, store logs, outputs and metrics.",
        discussion: """
        Exit 0 when the run passed (every stage succeeded, was cached or skipped, and the gate, the deploy \
        and the environments did not fail), 1 when a stage failed, the gate rejected the candidate, the \
        deploy failed or the run was cancelled, 2 when the repository, revision or state could not be read \
        or the gate could not be evaluated. Ctrl-C cancels the run and \
        kills every stage process. Runs interrupted by a crash are marked and retried on the next start.
        """
    )

    @OptionGroup var global: GlobalOptions

    @Option(help: "The commit to run (any revision; default HEAD).")
    var commit: String = "HEAD"

    @Option(help: "Compare against this revision instead of the commit's first parent.")
    var since: String?

    @Option(help: "The ref being run, passed to stages as SLUICE_REF (default: the current branch).")
    var ref: String?

    // `.unconditional` reads `--jobs -3` as a value (then refused by validate()), not as an option.
    @Option(parsing: .unconditional, help: "Stages run in parallel at most (default: number of CPU cores).")
    var jobs: Int?

    @Flag(help: "Keep the run's workspace (the checked-out commit and its outputs) after the run.")
    var keepWorkspace = false

    @Flag(help: "Sandbox every stage, not only a merge request's (see the threat model: docs/content/security.md).")
    var sandbox = false

    @Flag(help: "Run a merge request's stages even where the kernel cannot sandbox them.")
    var allowUnsandboxed = false

    @Option(help: "Run the stages here (local) or as Kubernetes Jobs (kubernetes), whatever sluice.yaml's runner says.")
    var runner: RunnerSpec.Kind?

    @OptionGroup var verify: VerifyOptions

    func validate() throws {
        if let jobs, jobs < 1 { throw ValidationError("--jobs must be 1 or more, got \(jobs)") }
    }

    func run() async throws {
        let prepared: CommandRun.Prepared
        do {
            var request = CommandRun.Request(location: global.repo, stateDirectory: global.stateDirectory, environment: ProcessInfo.processInfo.environment,
                                             revision: commit, since: since, ref: ref)
            request.jobs = jobs
            request.keepWorkspace = keepWorkspace
            request.runner = runner
            request.sandboxAllStages = sandbox
            request.allowUnsandboxed = allowUnsandboxed
            request.verify = verify.settings
            prepared = try CommandRun.prepare(request, recovered: { Output.err("sluice: \($0)") })
        } catch {
            throw Output.fail(error)
        }

        guard case .run(let run) = prepared else {
            if case .noSpec(let outcome) = prepared {
                for d in DiagnosticRenderer.sorted(outcome.diagnostics) { Output.err(DiagnosticRenderer.line(d)) }
                for note in outcome.notes { Output.out("note: \(note)") }
                if outcome.diagnostics.hasErrors { throw ExitCode(1) }
            }
            return
        }
        if global.format == .text {
            for note in run.plan.notes { Output.out("note: \(note)") }
        }
        let progress = ProgressPrinter(stages: run.plan.stages.map(\.name), live: global.format == .text && isatty(STDOUT_FILENO) == 1,
                                       quiet: global.format == .json)

        // Ctrl-C / SIGTERM cancel the run: stages are killed, the run is recorded as cancelled.
        let task = Task {
            try await run.execute(events: progress.handle, warn: { Output.err("sluice: warning: \($0)") },
                                  progress: { [quiet = global.format == .json] in if !quiet { Output.out("deploy: \($0)") } }) {
                "cancelled by a signal (Ctrl-C or SIGTERM)"
            }
        }
        let signals = SignalForwarder { task.cancel() }
        let outcome: CommitPipeline.Outcome
        do { outcome = try await task.value } catch { throw Output.fail(error) }
        withExtendedLifetime(signals) {}
        progress.finish()
        for warning in outcome.warnings { Output.err("sluice: warning: \(warning)") }

        let gate = outcome.gate
        if global.format == .json {
            try Output.json(RunSummary(run: outcome.run, stages: outcome.stages, gate: gate?.report))
        } else {
            // A terminal already shows the live table; pipes and CI logs get the summary table.
            let summary = RunSummary.text(run: outcome.run, stages: outcome.stages, order: run.plan.stages.map(\.name))
            Output.out(progress.live ? String(summary.split(separator: "\n").last ?? "") : summary)
        }
        if let error = outcome.gateError {
            Output.err("sluice: the gate could not be evaluated: \(error); nothing was promoted (fix it and run again)")
            throw ExitCode(2)
        }
        if let gate, global.format == .text {
            let failed = gate.report.metrics.filter { !$0.passed }
            Output.out("gate: \(gate.report.decision.rawValue)" + (gate.report.passed ? " (all rules passed)" : " (\(failed.count) rule\(failed.count == 1 ? "" : "s") failed)")
                       + (gate.promoted && gate.rolledBackTo == nil ? ", model \(gate.report.model) version \(gate.version ?? "?") is now in production" : "")
                       + "  (report: sluice report \(run.runID))")
            if let why = gate.report.overriding { Output.out("  \(why)") }
            for row in failed { Output.out("  \(row.slice.map { "\(row.metric) [\($0)]" } ?? row.metric): \(row.reason)") }
            if let d = gate.deployment, d.kind == .kubernetes {
                Output.out("deploy: \(d.branch): \(d.kubernetesSummary)")
            } else if let d = gate.deployment {
                let objects = DeployService.objectCount(d.changes)
                Output.out(d.commit.map { "deploy: branch \(d.branch) updated (\($0.prefix(12))): \(objects) object\(objects == 1 ? "" : "s") changed" }
                           ?? (d.healthy == false ? "deploy: branch \(d.branch) NOT updated: \(d.failure ?? "")" : "deploy: branch \(d.branch) already holds these manifests"))
            }
            if let back = gate.rolledBackTo { Output.out("deploy: rolled back to version \(back)") }
            if let chain = gate.chain { Output.out("environments: \(chain.position)") }
        }
        if !outcome.passed { throw ExitCode(1) }
    }
}

/// Turns SIGINT and SIGTERM into a call (once), instead of killing the process.
final class SignalForwarder: @unchecked Sendable {
    // @unchecked: the sources are only touched in init and deinit.
    private var sources: [DispatchSourceSignal] = []

    init(_ handler: @escaping @Sendable () -> Void) {
        for s in [SIGINT, SIGTERM] {
            signal(s, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: s, queue: .global())
            source.setEventHandler {
                Output.err("sluice: cancelling the run (stages are being stopped)")
                handler()
            }
            source.resume()
            sources.append(source)
        }
    }

    deinit { sources.forEach { $0.cancel() } }
}

extension RunnerSpec.Kind: ExpressibleByArgument {}
