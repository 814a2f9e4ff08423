import FoundationEssentials
public import SluiceCore
public import SluiceGit
import SluiceRegistry
import SluiceServer
import SluiceStore

/// The one pipeline for one commit, used by `sluice run`, the controller and the HTTP re-run:
/// notify, execute the stages, gate (fail closed), promote, deploy or roll back, publish
/// (notes, environment branch), notify, record. It never prints: the outcome carries the
/// verdict and every warning, and the caller prints (CLI) or logs and counts (controller).
public struct CommitPipeline: Sendable {
    public let service: RunService
    public let repository: GitRepository
    /// Tells a merge request about the run (nil: not a merge request, or no forge).
    public var notifier: MergeRequestNotifier?
    /// The branch that promotes (the controller's `branch`); nil: `gate.branch`, else the default branch.
    public var productionBranch: String?
    /// Pushes Sluice's refs (notes, environment branch) back when the repository is remote.
    public var publisher: Publisher?
    /// Deploy progress (waiting for a rollout, ...).
    public var progress: @Sendable (String) -> Void
    /// Records the run's notification events with their causes (the controller sets it for
    /// production-branch runs when notifications are configured).
    public var eventSource: EventSource?
    /// Deploys a merge request's candidate as its preview (the controller sets it; nil: no previews).
    public var previews: PreviewContext?

    public init(service: RunService, repository: GitRepository, notifier: MergeRequestNotifier? = nil, productionBranch: String? = nil,
                publisher: Publisher? = nil, progress: @escaping @Sendable (String) -> Void = { _ in }) {
        self.service = service
        self.repository = repository
        self.notifier = notifier
        self.productionBranch = productionBranch
        self.publisher = publisher
        self.progress = progress
    }

    public struct Outcome: Sendable {
        /// The run as stored at the end.
        public var run: RunRecord
        public var stages: [StageResultRecord]
        public var status: RunStatus
        /// The gate's outcome, when the pipeline succeeded and declares a gate.
        public var gate: GateService.Outcome?
        /// nil: no gate was due (no `gate`, or the pipeline failed).
        public var verdict: Verdict?
        /// Why the gate could not be evaluated (then nothing was promoted).
        public var gateError: String?
        /// What went wrong beside the verdict: a forge that refused a comment, a push that failed.
        public var warnings: [String] = []
        /// The forge's refusals while reporting on the merge request (also in `warnings`);
        /// nil: no merge request to report to.
        public var notificationProblems: [NotificationProblem]?

        /// Whether the run passed (`RunPassed`): stages, gate, deploy and environments.
        public var passed: Bool {
            RunPassed.decide(stagesSucceeded: status == .succeeded, gateEvaluated: gateError == nil, candidatePassed: gate?.report.passed,
                             deployHealthy: gate?.deployment?.healthy, chainFailed: gate?.chain?.failure != nil)
        }
    }

    /// Runs `record` (queued by `RunService.prepare`) to the end.
    /// - Parameter cancelReason: why a cancelled run was cancelled (superseded, controller stopping, Ctrl-C).
    public func execute(_ record: RunRecord, work: PipelineRunner.Work, events: @escaping @Sendable (RunEvent) -> Void = { _ in },
                        cancelReason: @Sendable () async -> String) async throws -> Outcome {
        let runID = record.id!
        let store = service.store
        var warnings: [String] = []
        var problems = notifier?.started(commit: record.commit, run: runID) ?? []

        let commit = try repository.commit(record.commit)
        // Held until the run is recorded as finished (the gate, promotion and deploy included), so
        // no other process takes it for interrupted meanwhile, and a crash before then is.
        let claim = try store.claimRun(runID)
        defer { withExtendedLifetime(claim) {} }
        let status = try await service.runner.execute(record, commit: commit, work: work, continuing: claim, events: events)
        if status == .cancelled {
            try store.setRunStatus(runID, .cancelled, at: WallClock.now(), message: await cancelReason())
            return try finish(runID, status: status, warnings: warnings + problems.map(\.description))
        }

        var gate: GateService.Outcome?
        var verdict: Verdict?
        var gateError: String?
        if status == .succeeded, work.spec.gate != nil {
            do {
                // The gate records its report, the verdict and its notifications itself, together.
                gate = try service.gateService(for: work.spec).evaluate(run: record, spec: work.spec, work: work, commit: commit, repository: repository,
                                                                        now: WallClock.now(), productionBranch: productionBranch, events: eventSource)
                verdict = gate?.report.decision
            } catch {
                // Fail closed: nothing is promoted; the run says why, and a re-run or the next commit retries.
                let decided = Verdict.decide(unevaluable: "\(error)").verdict
                verdict = decided
                gateError = "\(error)"
                try store.setRunStatus(runID, .failed, at: WallClock.now(),
                                       message: "the gate could not be evaluated: \(error) (nothing was promoted; fix it and re-run)",
                                       processedRef: work.processedRef)
                let model = GateService.modelName(work.spec, repositoryKey: work.repositoryKey)
                try store.setVerdict(runID, decided, events: eventSource?.gate(run: runID, commit: record.commit, model: model, report: nil, version: nil,
                                                                                         promoted: false, entered: nil, error: "\(error)", time: WallClock.now()) ?? [])
            }
            if let verdict { ControllerMetrics.verdict(verdict) }
        }

        var refs: [String] = []
        if var outcome = gate {
            for path in repository.removeAbandonedLocks(forRefs: Self.writtenRefs(work.spec)) {
                warnings.append("removed \(path), a lock file a killed git writer left behind (it would have failed every write of that ref)")
            }
            if outcome.report.decision != .reportOnly {
                do {
                    try repository.appendNote(GateService.note(for: outcome.report, version: outcome.version), to: record.commit)
                    refs.append(GitRepository.sluiceNotes)
                } catch {
                    warnings.append("the gate note was not written to commit \(CommitID(record.commit).short): \(error)")
                }
            }
            if outcome.attested { refs.append(AttestationRecord.ref) }
            if let version = outcome.chained {
                refs += try await enterEnvironments(version, outcome: &outcome, run: record, work: work)
            } else if outcome.promoted {
                refs.append(PromotionHistory.ref)
                refs += try deploy(&outcome, run: record, work: work, commit: commit)
            } else if let gateSpec = work.spec.gate, let deploy = work.spec.deploy,
                      GateService.isProductionRef(work.ref, branch: productionBranch, spec: gateSpec, repository: repository) {
                // Nothing new to promote: make sure the environment runs the production version
                // (a crash between an earlier promotion and its deploy left it behind).
                do {
                    let reconciler = EnvironmentReconciler(store: store, registry: try service.registry(for: work.spec),
                                                           environment: service.runner.options.environment)
                    let model = GateService.modelName(work.spec, repositoryKey: work.repositoryKey)
                    if case .deployed(let version, let previous, let result) = try reconciler.ensureDeployed(model: model, deploy: deploy,
                                                                                                           repository: repository, progress: progress) {
                        outcome.report.notes.append("\(deploy.environment) ran version \(previous ?? "none"), not production's \(version): deployed it")
                        if result.commit != nil { refs.append("refs/heads/" + result.branch) }
                    }
                } catch {
                    warnings.append("the environment \(deploy.environment) could not be brought to the production version: \(error)")
                }
            }
            gate = outcome
        }
        if let publisher, !refs.isEmpty {
            do { try publisher.push(refs, from: repository) } catch {
                warnings.append("\(refs.joined(separator: ", ")) not pushed: \(error)")
            }
        }
        var finished = try store.run(runID) ?? record
        // Stages that succeeded leave the run running (the gate may still have failed it): it
        // succeeds once the previews and the merge request's report below are done too.
        let settles = status == .succeeded && finished.status == .running
        if settles { finished.status = .succeeded }
        if let notifier {
            // Drawn only when the comment can show them: a gate report, and an address to link.
            var charts: [RunCharts.Chart] = []
            if notifier.chartBase != nil, gate != nil, gateError == nil {
                do { charts = try RunCharts.charts(run: runID, store: store) } catch {
                    warnings.append("the run's charts could not be drawn for the merge request: \(error)")
                }
            }
            problems += notifier.finished(commit: record.commit, run: runID, report: gate?.report, runSucceeded: finished.status == .succeeded,
                                          runMessage: finished.message, gateError: gateError, failures: try failedStages(runID), charts: charts)
        }
        if let previews, let gate, gateError == nil {
            let (told, previewWarnings) = await preview(gate.report, run: finished, work: work, context: previews)
            problems += told
            warnings += previewWarnings
        }
        if let notifier {
            if !problems.isEmpty {
                let text = problems.map(\.description).joined(separator: "\n")
                do {
                    try store.saveReport(ReportRecord(runId: runID, stage: "", kind: ReportRecord.notificationsKind, path: "", content: text))
                } catch {
                    warnings.append("the forge's answers could not be stored with the run: \(error)")
                }
            }
        }
        if settles { try store.setRunStatus(runID, .succeeded, at: WallClock.now(), processedRef: work.processedRef) }
        var outcome = try finish(runID, status: finished.status, warnings: warnings + problems.map(\.description))
        outcome.gate = gate
        outcome.verdict = verdict
        outcome.gateError = gateError
        outcome.notificationProblems = notifier == nil ? nil : problems
        return outcome
    }

    /// Moves a version that passed the gate down `environments:` as far as it goes now (a soak
    /// or an approval leaves the rest to the controller or `sluice approve`); the gate report
    /// says where it stands. Returns the refs written.
    private func enterEnvironments(_ version: RegisteredVersion, outcome: inout GateService.Outcome, run: RunRecord,
                                   work: PipelineRunner.Work) async throws -> [String] {
        var chain = EnvironmentChain(store: service.store, registry: try service.registry(for: work.spec),
                                     environment: service.runner.options.environment, stateDirectory: service.stateDirectory)
        chain.pod = service.verifyPods(repositoryKey: work.repositoryKey)
        chain.events = eventSource
        let progress = try await chain.advance(version, spec: work.spec, repository: repository, actor: "sluice run \(run.id!)",
                                               now: { WallClock.now() }, say: self.progress)
        outcome.chain = progress
        outcome.promoted = progress.reachedProduction
        outcome.report.notes.append("environments: \(progress.position)")
        try GateService(store: service.store, registry: chain.registry).save(outcome.report, runID: run.id!)
        outcome.markdown = GateReportMarkdown.render(outcome.report)
        return progress.refs
    }

    /// The stages that did not succeed, with why and the last lines of their logs.
    func failedStages(_ runID: Int64) throws -> [FailedStage] {
        try service.store.stages(of: runID).filter { $0.status == .failed || $0.status == .cancelled }.map { s in
            FailedStage(stage: s.stage, reason: s.message.map { "failed: \($0)" } ?? "failed" + (s.exitCode.map { " with exit code \($0)" } ?? ""),
                        logTail: s.logPath.map { StageLog.tail($0, lines: 15) } ?? [])
        }
    }

    /// The refs the pipeline writes in the repository: the notes, the promotion record, the environment branch.
    static func writtenRefs(_ spec: PipelineSpec) -> [String] {
        [GitRepository.sluiceNotes, PromotionHistory.ref, AttestationRecord.ref] + (spec.environments.isEmpty ? spec.deploy.map { [$0] } ?? [] : spec.environments.map(\.deploy))
            .map { "refs/heads/" + DeployService.branch(for: $0) }
    }

    private func finish(_ runID: Int64, status: RunStatus, warnings: [String]) throws -> Outcome {
        let store = service.store
        guard let run = try store.run(runID) else { throw LoadError(message: "run \(runID) vanished from the run store") }
        return Outcome(run: run, stages: try store.stages(of: runID), status: status, warnings: warnings)
    }

    /// Deploys a promoted candidate; a rollout that fails (or an apply that fails part-way) is
    /// recorded as its own event and production goes back to the previous version.
    /// Returns the refs written (the environment branch).
    private func deploy(_ outcome: inout GateService.Outcome, run: RunRecord, work: PipelineRunner.Work, commit: GitCommit) throws -> [String] {
        guard let deploy = work.spec.deploy, let objects = outcome.deployObjects, let facts = outcome.deployFacts else { return [] }
        let store = service.store
        let registry = try service.registry(for: work.spec)
        let environments = Environments(registry: registry, store: store, environment: service.runner.options.environment)
        let started = WallClock.now()
        var result: DeployService.Result
        do {
            result = try environments.write(objects, deploy: deploy, facts: facts, repository: repository, action: "Deploy", dryRun: false,
                                            progress: progress)
        } catch {
            result = .failed(deploy, error: error)
        }
        outcome.deployment = result
        try store.saveReport(DeploymentReport(model: facts.model, version: facts.version, environment: deploy.environment, result: result,
                                              startedAt: started, finishedAt: WallClock.now(), committedAt: Double(commit.time))
            .record(runID: run.id!))
        var refs: [String] = []
        if result.commit != nil { refs.append("refs/heads/" + result.branch) }
        if result.healthy == false {
            let reason = "rollout of version \(facts.version) failed: \(result.failure ?? "not healthy")"
            let promotion = Promotion(store: store, registry: registry, environment: service.runner.options.environment)
            var event: NotificationEvent?
            do {
                let back = try promotion.rollback(model: facts.model, to: nil, actor: "sluice run \(run.id!)", reason: reason, repository: repository)
                outcome.rolledBackTo = back.entry.version
                outcome.report.notes.append("\(reason); rolled back to version \(back.entry.version)" + (back.deployProblem.map { " (but: \($0))" } ?? ""))
                refs += back.refs
                event = eventSource?.rolledBack(run: run.id!, commit: run.commit, model: facts.model, version: facts.version, to: back.entry.version,
                                                environment: deploy.environment, failure: reason, time: WallClock.now())
            } catch {
                outcome.report.notes.append("\(reason); no rollback: \(error)")
                event = eventSource?.deployFailed(run: run.id!, commit: run.commit, model: facts.model, version: facts.version,
                                                  environment: deploy.environment, failure: "\(reason); no rollback: \(error)", time: WallClock.now())
            }
            if let event {
                do { try store.recordEvents([event]) } catch { outcome.report.notes.append("the \(event.kind.rawValue) notification was not recorded: \(error)") }
            }
            try GateService(store: store, registry: registry).save(outcome.report, runID: run.id!)
            outcome.markdown = GateReportMarkdown.render(outcome.report)
        }
        return refs
    }
}
