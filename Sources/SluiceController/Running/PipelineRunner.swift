import FoundationEssentials
public import SluiceCore
public import SluiceGit
import SluiceRunner
public import SluiceStore
#if canImport(Glibc)
import Glibc
#endif

/// Runs one planned commit: checks it out into its own workspace, runs the stages as a
/// DAG (independent stages in parallel, up to `jobs`), restores cached outputs, stores
/// new ones with their lineage, and records every step in the run store before the next.
public struct PipelineRunner: Sendable {
    public struct Options: Sendable {
        public var jobs: Int
        public var keepWorkspace = false
        public var outputLimitBytes = 50 << 20
        public var killGraceSeconds = 5.0
        /// Sluice's own environment; stages see only an allow-listed part (see `StageEnvironment`).
        public var environment: [String: String]
        /// Whether this kernel can sandbox stages (`SLUICE_SANDBOX=off` in `environment`: no).
        public var sandboxSupport: Sandbox.Support
        /// Paths a sandboxed stage never reaches besides the state folder (the controller's configuration).
        public var protectedPaths: [String] = []
        /// Run every repository's stages here or on Kubernetes, whatever its `runner:` says (`sluice run --runner`).
        public var runnerOverride: RunnerSpec.Kind?
        /// How stages reach Sluice from their pods, and the image of Sluice's own containers (nil: no Kubernetes runner).
        public var kubernetes: KubernetesRunnerOptions?

        public init(jobs: Int? = nil, environment: [String: String]) {
            self.jobs = max(1, jobs ?? Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
            self.environment = environment
            sandboxSupport = Sandbox.support(environment: environment)
        }
    }

    /// Everything about the commit that the stages need, read from git before they start.
    public struct Work: Sendable {
        public var repositoryKey: String
        /// Whether a merge request's stages see their declared secrets (the controller's
        /// `merge-request-secrets`; off by default).
        public var mergeRequestSecrets = false
        /// Whose cached results this run may restore, and under which scope it stores its own.
        public var cacheScope = CacheScope.production
        /// Sandbox every stage, not only a merge request's (the repository's `sandbox: all`).
        public var sandboxAllStages = false
        /// Run a merge request's stages even where they cannot be sandboxed (off by default).
        public var allowUnsandboxed = false
        /// Whether command stages run in the sandbox (see `StageSandbox`).
        public var sandboxed: Bool { sandboxAllStages || cacheScope.isMergeRequest }
        public var spec: PipelineSpec
        public var plan: Plan
        public var ref: String?
        /// Record `ref` as processed at the run's commit when the run ends (not when cancelled),
        /// with its final status (the controller's runs of a ref's head; `sluice run` of one).
        public var recordsRef = false
        /// `ref` when `recordsRef`, for `RunStore.setRunStatus`.
        public var processedRef: String? { recordsRef ? ref : nil }
        public var datasetVersions: [String: String]
        /// Parameter entries and their resolved values, for lineage.
        public var parameters: [String: String]
        /// Data files of the production model's commit, for drift (nil: none yet).
        /// The production model's version of a data file, given the run's workspace (nil: no production model).
        public var referenceData: (@Sendable (_ path: String, _ workspace: String) -> ReferenceData?)?
        /// Records `run.failed` with the run's failure (the controller sets it for production-branch runs
        /// when notifications are configured).
        public var events: EventSource?

        /// Takes the repository's merge-request secrets and sandbox settings from the controller's configuration.
        public mutating func apply(_ repository: ControllerConfig.Repository) {
            mergeRequestSecrets = repository.mergeRequestSecrets
            sandboxAllStages = repository.sandboxAllStages
            allowUnsandboxed = repository.allowUnsandboxed
        }

        public init(repositoryKey: String, spec: PipelineSpec, plan: Plan, ref: String?, datasetVersions: [String: String],
                    parameters: [String: String] = [:], referenceData: (@Sendable (String, String) -> ReferenceData?)? = nil) {
            self.repositoryKey = repositoryKey
            self.spec = spec
            self.plan = plan
            self.ref = ref
            self.datasetVersions = datasetVersions
            self.parameters = parameters
            self.referenceData = referenceData
        }
    }

    public let stateDirectory: String
    public let store: RunStore
    public let artifacts: ArtifactStore
    public let options: Options
    let kubeClients = KubeClients()

    public init(stateDirectory: String, store: RunStore, options: Options) {
        self.stateDirectory = stateDirectory
        self.store = store
        self.artifacts = store.artifactStore
        self.options = options
    }

    public func logPath(runID: Int64, stage: String) -> String { "\(stateDirectory)/logs/run-\(runID)/\(stage).log" }

    /// A new queued run with one pending row per planned stage.
    public func enqueue(_ work: Work, trigger: String, now: Double) throws(RunStore.StoreError) -> RunRecord {
        var run = RunRecord(repository: work.repositoryKey, ref: work.ref, commit: work.plan.commit, baseCommit: work.plan.baseCommit,
                            trigger: trigger, createdAt: now)
        run.cacheScope = work.cacheScope.storedName
        return try store.insert(run, stages: work.plan.stages.map {
            StageResultRecord(runId: 0, stage: $0.name, status: .pending, decision: $0.decision.rawValue,
                              reasons: $0.reasons.joined(separator: "; "), cacheKey: $0.cacheKey)
        })
    }

    /// Runs a queued run's stages to the end. Returns the stages' outcome, recorded as the run's
    /// status unless the caller holds the run (`continuing`) and goes on with it (gate, promotion,
    /// deploy): then a run whose stages succeeded stays `running`, and the caller records it as
    /// succeeded once done, so a crash before then is recovered as an interrupted run.
    public func execute(_ run: RunRecord, commit: GitCommit, work: Work, continuing claim: HeldLock? = nil,
                        events: @escaping @Sendable (RunEvent) -> Void = { _ in }) async throws -> RunStatus {
        let runID = run.id!
        let commitID = commit.id
        let lock = try claim ?? store.claimRun(runID)
        defer { withExtendedLifetime(lock) {} }
        let workspace = workspace(of: runID)
        try? FileManager.default.removeItem(atPath: workspace)
        try? FileManager.default.createDirectory(atPath: stateDirectory + "/workspaces", withIntermediateDirectories: true)
        do {
            try commit.checkout(to: workspace)
        } catch {
            try store.setRunStatus(runID, .failed, at: WallClock.now(), message: "\(error)",
                                   events: failureEvents(run, work: work, message: "\(error)", results: []), processedRef: work.processedRef)
            events(.runFinished(runID: runID, status: .failed))
            return .failed
        }
        try store.setRunStatus(runID, .running, at: WallClock.now())
        events(.runStarted(runID: runID, commit: commit.id, workspace: workspace))

        // A failure of the store or the file system half-way (a full disk) must not leave the
        // run "running": it is recorded as failed, with why, when that can still be written.
        do {
            var results = Dictionary(uniqueKeysWithValues: try store.stages(of: runID).map { ($0.stage, $0) })
            let planned = Dictionary(uniqueKeysWithValues: work.plan.stages.map { ($0.name, $0) })
            // A retried run keeps its rows; the decisions are today's plan (finished stages are now cached).
            for (name, p) in planned {
                guard var row = results[name] else { continue }
                let reasons = p.reasons.joined(separator: "; ")
                if row.decision != p.decision.rawValue || row.reasons != reasons || row.cacheKey != p.cacheKey {
                    row.decision = p.decision.rawValue
                    row.reasons = reasons
                    row.cacheKey = p.cacheKey
                    try store.update(row)
                    results[name] = row
                }
            }
            let order = work.spec.stages.map(\.name).filter { results[$0] != nil }
            var running: Set<String> = []

            // A stage settled without running (blocked, cancelled) whose row cannot be written
            // stops the run below, as any store failure does.
            var unrecorded: RunStore.StoreError?
            await withTaskGroup(of: StageResultRecord.self) { group in
                while true {
                    // Settle stages whose needs failed, then start those whose needs all succeeded.
                    var changed = true
                    while changed {
                        changed = false
                        for name in order where results[name]?.status == .pending && !running.contains(name) {
                            guard let spec = work.spec.stage(named: name) else { continue }
                            let needs = spec.needs.compactMap { results[$0]?.status }
                            if let bad = spec.needs.first(where: { n in results[n].map { $0.status.isFinished && !$0.status.isSuccess } ?? false }) {
                                var r = results[name]!
                                r.status = Task.isCancelled ? .cancelled : .blocked
                                r.message = Task.isCancelled ? "the run was cancelled" : "not run: stage '\(bad)' it needs did not succeed"
                                r.finishedAt = WallClock.now()
                                do throws(RunStore.StoreError) { try store.update(r) } catch { unrecorded = unrecorded ?? error }
                                results[name] = r
                                events(.stageFinished(stage: name, status: r.status, message: r.message, seconds: 0))
                                changed = true
                            } else if Task.isCancelled {
                                var r = results[name]!
                                r.status = .cancelled
                                r.message = "the run was cancelled"
                                do throws(RunStore.StoreError) { try store.update(r) } catch { unrecorded = unrecorded ?? error }
                                results[name] = r
                                changed = true
                            } else if needs.count == spec.needs.count, needs.allSatisfy(\.isSuccess), running.count < options.jobs {
                                running.insert(name)
                                let record = results[name]!
                                let plannedStage = planned[name]!
                                group.addTask {
                                    await self.runStage(spec, plannedStage, record, workspace: workspace, commit: commitID, work: work, events: events)
                                }
                            }
                        }
                    }
                    guard let finished = await group.next() else { break }
                    running.remove(finished.stage)
                    results[finished.stage] = finished
                }
            }

            if let unrecorded { throw unrecorded }
            let statuses = results.values.map(\.status)
            let status: RunStatus = statuses.contains(.cancelled) ? .cancelled
                : statuses.allSatisfy(\.isSuccess) ? .succeeded : .failed
            if status == .succeeded, !work.spec.dvcPlots.isEmpty {
                // Their warnings are stored with each plot and shown beside its chart.
                let plots = PlotFiles.reports(work.spec.dvcPlots, stage: PlotFiles.dvcStage, runID: runID, workspace: workspace,
                                              masker: StageEnvironment.masker(for: work.spec, controller: options.environment))
                for report in plots.reports { try store.saveReport(report) }
            }
            let problems = [StageOutcomes.unsuccessful(results.values.map { ($0.stage, $0.status) }), await removeRunSecrets(run, work: work)].compactMap { $0 }
            let message = problems.isEmpty ? nil : problems.joined(separator: "; ")
            if status == .succeeded, claim != nil {
                if let message { try store.setRunStatus(runID, .running, at: WallClock.now(), message: message) }
            } else {
                try store.setRunStatus(runID, status, at: WallClock.now(), message: message,
                                       events: status == .failed ? failureEvents(run, work: work, message: message, results: Array(results.values)) : [],
                                       processedRef: work.processedRef)
            }
            if !options.keepWorkspace { removeWorkspace(of: runID) }
            events(.runFinished(runID: runID, status: status))
            return status
        } catch {
            // A full disk is the usual reason a run cannot continue: free its workspace before recording it.
            if !options.keepWorkspace { removeWorkspace(of: runID) }
            do {
                try store.setRunStatus(runID, .failed, at: WallClock.now(), message: "the run could not continue: \(error)",
                                       events: failureEvents(run, work: work, message: "the run could not continue: \(error)", results: []),
                                       processedRef: work.processedRef)
            } catch let unrecorded {
                throw LoadError(message: "run \(runID) could not continue (\(error)), and that could not be recorded (\(unrecorded)); the next start marks it interrupted")
            }
            events(.runFinished(runID: runID, status: .failed))
            throw error
        }
    }

    // MARK: one stage

    private func runStage(_ spec: StageSpec, _ planned: PlannedStage, _ record: StageResultRecord, workspace: String,
                          commit: String, work: Work, events: @escaping @Sendable (RunEvent) -> Void) async -> StageResultRecord {
        var r = record
        let started = WallClock.now()
        r.status = .running
        r.startedAt = started
        r.logPath = logPath(runID: r.runId, stage: r.stage)
        do {
            try store.update(r)
        } catch {
            r.status = .failed
            r.message = "\(error)"
            return r
        }
        let log: StageLog
        do { log = try StageLog(path: r.logPath!) } catch {
            return finish(&r, .failed, message: "\(error)", started: started, events: events)
        }
        let say: @Sendable (String) -> Void = { text in
            let line = LogLine(time: WallClock.now(), stream: .sluice, text: text)
            log.write(line)
            events(.stageLine(stage: record.stage, line: line))
        }

        // Cached (by the plan, or since the plan was made) or skipped: restore earlier outputs,
        // only from runs this run's cache scope may read (see CacheScope).
        let useCache = spec.cache && !planned.forced
        let inputLock: HeldLock?
        do { inputLock = try await self.inputLock(for: planned, useCache: useCache, work: work, say: say) } catch {
            let cancelled = Task.isCancelled
            return finish(&r, cancelled ? .cancelled : .failed, message: cancelled ? "cancelled while waiting for the same stage in another run" : "\(error)",
                          started: started, events: events)
        }
        defer { withExtendedLifetime(inputLock) {} }
        if planned.decision != .run || useCache {
            let entry: RunStore.CachedResult?
            do {
                let scopes = work.cacheScope.readable
                let exact = try store.cacheEntry(for: planned.cacheKey, repository: work.repositoryKey, scopes: scopes)
                entry = try planned.decision == .skip
                    ? exact ?? store.latestSuccess(repository: work.repositoryKey, stage: r.stage, scopes: scopes)
                    : (useCache ? exact : nil)
            } catch {
                say("\(error)")
                return finish(&r, .failed, message: "\(error)", started: started, events: events)
            }
            if let entry {
                do {
                    for a in entry.artifacts { try artifacts.restore(a.digest, kind: a.kind, to: a.path, workspace: workspace) }
                    let status: StageStatus = planned.decision == .skip ? .skipped : .cached
                    let origin = "run \(entry.stage.runId) (\(CacheScope.describe(storedName: entry.scope)))"
                    let restored = entry.artifacts.isEmpty ? "" : "; outputs of \(origin) restored"
                    say(planned.decision == .skip
                        ? "skipped (\(planned.reasons.joined(separator: "; ")))" + restored
                        : "cache hit: result of \(origin) reused (key \(planned.cacheKey.prefix(16)))" + restored)
                    r.cacheHit = status == .cached
                    r.cachedFrom = entry.stage.runId
                    let copied = entry.artifacts.map { a in var c = a; c.runId = r.runId; return c }
                    let reports = entry.reports.map { x in var c = x; c.runId = r.runId; return c }
                    return complete(&r, status, artifacts: copied, reports: reports, message: nil, started: started, events: events)
                } catch {
                    say("could not restore earlier outputs (\(error)); running the stage")
                }
            } else if planned.decision == .skip {
                say("skipped: \(planned.reasons.joined(separator: "; "))")
                return complete(&r, .skipped, artifacts: [], reports: [], message: nil, started: started, events: events)
            } else if planned.decision == .cached {
                say("planned as cached, but the stored result is gone; running the stage")
            }
        }

        // Execute, on the runner this stage and run call for.
        events(.stageStarted(stage: r.stage))
        let env = StageEnvironment(stage: spec, controller: options.environment, commit: commit, ref: work.ref, runID: r.runId,
                                   workspace: workspace, datasetVersions: work.datasetVersions,
                                   secretsAllowed: StageEnvironment.secretsAllowed(ref: work.ref, mergeRequestSecrets: work.mergeRequestSecrets))
        let stageName = r.stage
        let execution = await StageRunners.choose(spec, work: work, pipeline: self).run(StageRun(
            spec: spec, record: r, workspace: workspace, commit: commit, work: work, environment: env, say: say,
            line: { line in
                log.write(line)
                events(.stageLine(stage: stageName, line: line))
            }))
        r.exitCode = execution.exitCode ?? r.exitCode
        r.runnerJob = execution.job ?? r.runnerJob
        r.image = execution.image
        var reports = execution.reports
        guard execution.succeeded else {
            return finish(&r, execution.cancelled ? .cancelled : .failed, message: execution.message ?? "failed", started: started, events: events,
                          reports: reports)
        }

        // Store outputs and metrics.
        do {
            var stored: [ArtifactRecord] = []
            let lineage = Self.lineage(commit: commit, stage: r.stage, cacheKey: planned.cacheKey, runID: r.runId, work: work)
            for output in spec.outputs {
                let s = try artifacts.store(output: output, workspace: workspace)
                stored.append(ArtifactRecord(runId: r.runId, stage: r.stage, path: output, digest: s.digest, kind: s.kind, size: s.size,
                                             cacheKey: planned.cacheKey, commit: commit, lineage: lineage, createdAt: WallClock.now()))
                say("stored \(output) as \(s.digest.prefix(19))… (\(s.size) bytes)")
            }
            if let metrics = spec.metrics {
                // Masked like the log: a secret printed into a metric or slice name never reaches a report.
                let json = try MetricsFile.json(metrics, in: workspace, masker: env.masker)
                reports.append(ReportRecord(runId: r.runId, stage: r.stage, kind: "metrics", path: metrics, content: json))
            }
            let plots = PlotFiles.reports(spec.plots, stage: spec.name, runID: r.runId, workspace: workspace, masker: env.masker)
            for warning in plots.warnings { say("warning: \(warning)") }
            reports += plots.reports
            return complete(&r, .succeeded, artifacts: stored, reports: reports, message: nil, started: started, events: events)
        } catch {
            say("\(error)")
            return finish(&r, .failed, message: "\(error)", started: started, events: events)
        }
    }

    static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        return e
    }()

    static func lineage(commit: String, stage: String, cacheKey: String, runID: Int64, work: Work) -> String {
        struct Lineage: Encodable {
            var repository: String, commit: String, stage: String, cacheKey: String, run: Int64
            var datasetVersions: [String: String], parameters: [String: String]
        }
        let value = Lineage(repository: work.repositoryKey, commit: commit, stage: stage, cacheKey: cacheKey, run: runID,
                            datasetVersions: work.datasetVersions, parameters: work.parameters)
        return (try? String(decoding: encoder.encode(value), as: UTF8.self)) ?? "{}"
    }

    private func complete(_ r: inout StageResultRecord, _ status: StageStatus, artifacts: [ArtifactRecord], reports: [ReportRecord],
                          message: String?, started: Double, events: @Sendable (RunEvent) -> Void) -> StageResultRecord {
        r.status = status
        r.finishedAt = WallClock.now()
        r.message = message
        r.processGroup = nil
        archiveLog(&r)
        do {
            try store.complete(r, artifacts: artifacts, reports: reports)
        } catch {
            r.status = .failed
            r.message = "\(error)"
            try? store.update(r)
        }
        events(.stageFinished(stage: r.stage, status: r.status, message: r.message, seconds: r.finishedAt! - started))
        return r
    }

    private func finish(_ r: inout StageResultRecord, _ status: StageStatus, message: String, started: Double,
                        events: @Sendable (RunEvent) -> Void, reports: [ReportRecord] = []) -> StageResultRecord {
        complete(&r, status, artifacts: [], reports: reports, message: message, started: started, events: events)
    }
}
