import ArgumentParser
import Dispatch
import FoundationEssentials
import SluiceController
import SluiceCore
import SluiceForge
import SluiceGit
import SluiceStore
#if canImport(Glibc)
import Glibc
#endif

struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a commit's pipeline once: plan, run the stages, store logs, outputs and metrics.",
        discussion: """
        Exit 0 when every stage succeeded (or was cached or skipped), 1 when a stage failed or the run was \
        cancelled, 2 when the repository, revision or state could not be read. Ctrl-C cancels the run and \
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

    @Option(help: "Stages run in parallel at most (default: number of CPU cores).")
    var jobs: Int?

    @Flag(help: "Keep the run's workspace (the checked-out commit and its outputs) after the run.")
    var keepWorkspace = false

    func run() async throws {
        let service: RunService
        let prepared: RunService.Prepared
        let repository: GitRepository
        do {
            let environment = ProcessInfo.processInfo.environment
            var options = PipelineRunner.Options(jobs: jobs, environment: environment)
            options.keepWorkspace = keepWorkspace
            service = try RunService(stateDirectory: global.stateDirectory, options: options)
            for r in try service.recover() {
                Output.err("sluice: run \(r.run.id!) (\(r.run.commit.prefix(12))) was interrupted by a crash; queued again as run \(r.retry.id!)")
            }
            repository = try RepositorySource.open(global.repo, stateDirectory: global.stateDirectory,
                                                   credentials: GitCredentials.fromEnvironment(environment))
            let refName = ref.map { $0.hasPrefix("refs/") ? $0 : "refs/heads/" + $0 } ?? repository.headBranch.map { "refs/heads/" + $0 }
            prepared = try service.prepare(repository: repository, repositoryKey: Plan.stateLocation(global.repo), revision: commit,
                                           since: since, ref: refName, trigger: "sluice run")
        } catch {
            throw Output.fail(error)
        }

        guard case .run(let record, let work) = prepared else {
            if case .noSpec(let outcome) = prepared {
                for d in DiagnosticRenderer.sorted(outcome.diagnostics) { Output.err(DiagnosticRenderer.line(d)) }
                for note in outcome.notes { Output.out("note: \(note)") }
                if outcome.diagnostics.hasErrors { throw ExitCode(1) }
            }
            return
        }
        if global.format == .text {
            for note in work.plan.notes { Output.out("note: \(note)") }
        }
        let progress = ProgressPrinter(stages: work.plan.stages.map(\.name), live: global.format == .text && isatty(STDOUT_FILENO) == 1,
                                       quiet: global.format == .json)
        let commitObject: GitCommit
        do { commitObject = try repository.commit(work.plan.commit) } catch { throw Output.fail(error) }

        // Merge requests: a pending status now, the report and final status at the end.
        var notifier: MergeRequestNotifier?
        if let mr = ForgeConfiguration.mergeRequest(of: work.ref) {
            do {
                if let forge = try ForgeConfiguration.fromEnvironment(ProcessInfo.processInfo.environment) {
                    notifier = MergeRequestNotifier(forge: forge, mergeRequest: mr,
                                                    reportURLTemplate: ProcessInfo.processInfo.environment["SLUICE_REPORT_URL"])
                }
            } catch {
                Output.err("sluice: warning: no merge request comment or status: \(error)")
            }
            if let warning = notifier?.started(commit: work.plan.commit, run: record.id!) { Output.err("sluice: warning: \(warning)") }
        }

        // Ctrl-C / SIGTERM cancel the run: stages are killed, the run is recorded as cancelled.
        let task = Task { try await service.runner.execute(record, commit: commitObject, work: work, events: progress.handle) }
        let signals = SignalForwarder { task.cancel() }
        let status: RunStatus
        do { status = try await task.value } catch { throw Output.fail(error) }
        withExtendedLifetime(signals) {}
        progress.finish()

        // The gate: only for a pipeline that succeeded and declares one.
        var gate: GateService.Outcome?
        if status == .succeeded, work.spec.gate != nil {
            do {
                let remote = RepositorySource.isRemote(global.repo) ? global.repo : nil
                let credentials = GitCredentials.fromEnvironment(ProcessInfo.processInfo.environment)
                let quiet = global.format == .json
                gate = try service.gate(run: record, work: work, repository: repository, commit: commitObject,
                                        progress: { if !quiet { Output.out("deploy: \($0)") } }) { refs in
                    guard let remote else { return }
                    do {
                        try GitMirror.push(repository, refs: refs, url: remote, credentials: credentials)
                    } catch {
                        Output.err("sluice: warning: \(refs.joined(separator: ", ")) not pushed to \(remote): \(error)")
                    }
                }
            } catch {
                // Fail closed: nothing is promoted; the run says so, and running again retries the gate.
                let message = "gate not evaluated: \(error); run again to retry"
                try? service.store.setRunStatus(record.id!, .succeeded, at: PipelineRunner.now(), message: message)
                Output.err("sluice: \(message)")
                for warning in notifier?.finished(commit: work.plan.commit, run: record.id!, report: nil, markdown: nil,
                                                  runSucceeded: false, runMessage: message) ?? [] {
                    Output.err("sluice: warning: \(warning)")
                }
                throw ExitCode(2)
            }
        }

        let stages = (try? service.store.stages(of: record.id!)) ?? []
        let finished = ((try? service.store.run(record.id!)) ?? nil) ?? record
        if let notifier {
            for warning in notifier.finished(commit: work.plan.commit, run: record.id!, report: gate?.report, markdown: gate?.markdown,
                                             runSucceeded: status == .succeeded, runMessage: finished.message) {
                Output.err("sluice: warning: \(warning)")
            }
        }
        if global.format == .json {
            try Output.json(RunSummary(run: finished, stages: stages, gate: gate?.report))
        } else {
            // A terminal already shows the live table; pipes and CI logs get the summary table.
            let summary = RunSummary.text(run: finished, stages: stages, order: work.plan.stages.map(\.name))
            Output.out(progress.live ? String(summary.split(separator: "\n").last ?? "") : summary)
        }
        if let gate, global.format == .text {
            let failed = gate.report.metrics.filter { !$0.passed }
            Output.out("gate: \(gate.report.decision.rawValue)" + (gate.report.passed ? " (all rules passed)" : " (\(failed.count) rule\(failed.count == 1 ? "" : "s") failed)")
                       + (gate.promoted ? ", model \(gate.report.model) version \(gate.version ?? "?") is now in production" : "")
                       + "  (report: sluice report \(record.id!))")
            for row in failed { Output.out("  \(row.slice.map { "\(row.metric) [\($0)]" } ?? row.metric): \(row.reason)") }
            if let d = gate.deployment, d.branch.hasPrefix("kubernetes") {
                let objects = d.changes.filter { !$0.hasPrefix(" ") }.count
                Output.out("deploy: \(d.branch): \(objects) object\(objects == 1 ? "" : "s") changed"
                           + (d.pruned.isEmpty ? "" : ", pruned \(d.pruned.joined(separator: ", "))")
                           + (d.healthy == true ? "; healthy" : "; NOT healthy: \(d.failure ?? "")"))
                if let back = gate.rolledBackTo { Output.out("deploy: rolled back to version \(back)") }
            } else if let d = gate.deployment {
                let objects = d.changes.filter { !$0.hasPrefix(" ") }.count
                Output.out(d.commit.map { "deploy: branch \(d.branch) updated (\($0.prefix(12))): \(objects) object\(objects == 1 ? "" : "s") changed" }
                           ?? "deploy: branch \(d.branch) already holds these manifests")
            }
        }
        if status != .succeeded || gate?.report.passed == false || gate?.deployment?.healthy == false { throw ExitCode(1) }
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
