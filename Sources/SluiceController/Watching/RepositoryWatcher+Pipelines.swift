import FoundationEssentials
import Logging
import SluiceCore
import SluiceGit
import SluiceRunner
import SluiceStore

/// The pipelines step: one commit's pipeline, from waiting for a run slot to the ref recorded
/// as processed — planned (an invalid `sluice.yaml` said, on the merge request too, and its head
/// not planned again until it moves), executed through `CommitPipeline` (with the merge
/// request's preview), and what came of it logged and counted. Off the watcher's actor but
/// for the conditions it sets (`SpecValid`, `PipelineError`, and the production branch's
/// report).
extension RepositoryWatcher {
    /// Plans, runs and gates one commit; records the ref as processed once its results are stored.
    /// An invalid `sluice.yaml` is not recorded as processed: `SpecValid=False` says why until a
    /// later commit fixes it, and a merge request gets a failing status with the errors.
    nonisolated func runPipeline(update: RefTracker.Update, trigger: String, production: Bool) async {
        // Pipelines wait for one of the controller's run slots, in the order they asked. One
        // cancelled while waiting (superseded, shutting down) did not start: the ref stays
        // unprocessed and the next poll sees it again.
        _ = await slots.runs.run { await self.runPipelineHoldingSlot(update: update, trigger: trigger, production: production) }
    }

    private nonisolated func runPipelineHoldingSlot(update: RefTracker.Update, trigger: String, production: Bool) async {
        let repo = repository
        var log = self.log
        log[metadataKey: "ref"] = .string(update.ref)
        log[metadataKey: "commit"] = .string(CommitID(update.head).short)
        do {
            let git = try Self.localRepository(repo, service: service)
            switch try service.prepare(repository: git, repositoryKey: repo.url, revision: update.head, since: update.base, ref: update.ref, trigger: trigger,
                                       productionBranch: repo.branch) {
            case .noSpec(let outcome) where outcome.diagnostics.hasErrors:
                let errors = DiagnosticRenderer.sorted(outcome.diagnostics).filter { $0.severity == .error }.map(DiagnosticRenderer.line)
                for e in errors { log.error("invalid sluice.yaml: \(e)") }
                await markInvalid(update.ref, head: update.head)
                if production {
                    await setCondition(.invalidSpec, message: "\(CommitPlanner.specFile) at \(CommitID(update.head).short): " + errors.joined(separator: "; "))
                }
                if let notifier = notifier(for: update.ref, log: log) { await reported(notifier.specInvalid(commit: update.head, errors: errors)) }
            case .noSpec(let outcome):
                for note in outcome.notes { log.info("\(note)") }
                if production { await setCondition(.noSpec, message: outcome.notes.joined(separator: "; ")) }
                try RefTracker(store: service.store, repository: repo.url).record(update.ref, commit: update.head)
            case .run(let record, var work):
                work.apply(repo)
                // The ref is recorded with the run's final status (not when cancelled: the next poll sees it again).
                work.recordsRef = true
                if let rewritten = CommitPlanner.rewrittenNote(update) {
                    log.warning("\(rewritten)")
                    work.plan.notes.insert(rewritten, at: 0)
                }
                if production { await setCondition(.valid, message: "\(CommitPlanner.specFile) at \(CommitID(update.head).short) is valid") }
                _ = try await execute(record, work: work, git: git, ref: update.ref)
            }
        } catch {
            // The ref is not recorded, so the next poll retries.
            log.error("pipeline failed: \(error) (retried on the next poll)")
            if production { await setCondition(.pipelineError, message: "\(error)") }
        }
    }

    /// The merge request's notifier, fenced by this replica's leadership term.
    nonisolated func notifier(for ref: String, log: Logger) -> MergeRequestNotifier? {
        guard var notifier = MergeRequestNotifier.forRef(ref, environment: forgeEnvironment, warn: { log.warning("\($0)") }) else { return nil }
        let store = service.store
        notifier.fence = { act in
            do { return try store.fenceRefusal(act) } catch {
                return "\(act) refused: this replica's leadership term could not be read (\(error))"
            }
        }
        return notifier
    }

    /// Runs a queued run through the commit pipeline and logs and records what came of it.
    nonisolated func execute(_ record: RunRecord, work: PipelineRunner.Work, git: GitRepository, ref: String) async throws -> RunStatus {
        var log = self.log
        log[metadataKey: "run"] = .stringConvertible(record.id!)
        log[metadataKey: "commit"] = .string(CommitID(record.commit).short)
        log[metadataKey: "ref"] = .string(ref)
        let isProduction = ProductionBranch.promotes(ref: ref, branch: ProductionBranch.name(configured: repository.branch, gateBranch: work.spec.gate?.branch,
                                                                                          defaultBranch: git.defaultBranch))
        log.info("run started", metadata: ["stages": .string(work.plan.stagesToRun.map(\.name).joined(separator: ","))])
        let runLog = log
        var work = work
        if isProduction { work.events = eventSource?.routing(work.spec) }
        var pipeline = CommitPipeline(service: service, repository: git, notifier: notifier(for: ref, log: log), productionBranch: repository.branch,
                                      publisher: RepositorySource.isRemote(repository.url) ? Publisher(url: repository.url, environment: environment) : nil,
                                      progress: { runLog.info("deploy: \($0)") })
        if isProduction { pipeline.eventSource = eventSource?.routing(work.spec) }
        pipeline.previews = await previewContext(ref: ref, run: record, spec: work.spec)
        let outcome = try await pipeline.execute(record, work: work, events: { event in
            if case .stageFinished(_, let status, _, let seconds) = event {
                ControllerMetrics.stageFinished(status: status.rawValue, seconds: seconds, cached: status == .cached)
            }
        }) { [weak self] in
            await self?.isDraining == true ? "the controller stopped before it finished (a restart runs it again)" : "superseded by a newer commit on \(ref)"
        }
        let problems = Set(outcome.notificationProblems?.map(\.description) ?? [])
        for warning in outcome.warnings where !problems.contains(warning) { log.warning("\(warning)") }
        if let notified = outcome.notificationProblems { await reported(notified) }
        ControllerMetrics.runFinished(repository: repository.name, status: outcome.status.rawValue)
        log.log(level: outcome.status == .succeeded ? .info : .warning, "run \(outcome.status.rawValue)\(outcome.run.message.map { ": \($0)" } ?? "")",
                metadata: ["status": .string(outcome.status.rawValue)])
        if let gate = outcome.gate {
            log.info("verdict \(gate.report.decision.rawValue)\(gate.promoted ? ": version \(gate.version ?? "?") promoted" : "")",
                     metadata: ["verdict": .string(gate.report.decision.rawValue), "model": .string(gate.report.model)])
            if let d = gate.deployment {
                log.log(level: d.healthy == false ? .error : .info, "deployed to \(d.branch)\(d.healthy == false ? ": NOT healthy: \(d.failure ?? "")" : "")",
                        metadata: ["environment": .string(work.spec.deploy?.environment ?? "")])
                if !d.pruned.isEmpty { log.info("pruned \(d.pruned.joined(separator: ", "))") }
            }
            if let back = gate.rolledBackTo { log.warning("rolled back to version \(back)") }
        }
        if let error = outcome.gateError { log.error("the gate could not be evaluated: \(error); nothing was promoted") }
        guard isProduction, outcome.status != .cancelled else { return outcome.status }
        await apply(outcome.productionReport(runID: record.id!, commit: record.commit))
        return outcome.status
    }
}
