import FoundationEssentials
public import Logging
public import SluiceCore
import SluiceGit

/// Reconciles one repository by state, on every wake-up (poll interval, webhook, restart):
/// fetches it, runs the newest commit of the production branch — a newer one supersedes a run
/// still in progress, which is cancelled and recorded — and merge-request heads beside it, up
/// to a limit; then brings the environment to the production version and checks it for drift
/// every `sync.interval`. What it observes is kept as named conditions (`Fetched`, `SpecValid`,
/// `Trained`, `Gated`, `Deployed`, `InSync`, `Ready`), stored for `sluice status`, and every
/// event is logged once. A repository that cannot be reached, or whose `sluice.yaml` is broken,
/// is retried with backoff; the other repositories are not affected.
///
/// Each pass is a list of steps, each owning its conditions: the source (`SourceReconciler`:
/// `Fetched`), the pipelines (this file schedules them, `+Pipelines` runs one: `SpecValid`,
/// `Trained`, `Gated`, quarantine), merge requests (`+MergeRequests`: admission, forks, `Reported`), their
/// previews (`PreviewReconciler`: closed, expired, interrupted), the environment
/// (`EnvironmentStep` with `EnvironmentReconciler`: `RegistryInSync`, `Deployed`, `InSync`), the
/// environment chains (`ChainStep`: `Promoting`), the operator's actions (`+Actions`,
/// `+Approvals`), and what keeps a head from running (`+Admission`: quarantine, `Sandboxed`). The
/// steps that are types run off the actor and return what they concluded (`StepReport`).
public actor RepositoryWatcher {
    nonisolated public let repository: ControllerConfig.Repository
    public let service: RunService
    public let environment: [String: String]
    public let mergeRequestParallelism: Int
    /// Fetch and run slots shared with every other repository's watcher.
    nonisolated let slots: ControllerSlots
    public internal(set) var health = RepositoryHealth()
    nonisolated let log: Logger
    private var wakeUp: CheckedContinuation<Void, Never>?
    private var pendingWake = false
    private var production: (commit: String, task: Task<Void, Never>)?
    /// Each merge request's pipeline (a queue of one: a newer head supersedes it), by ref.
    var mergeRequestsRunning: [String: (head: String, task: Task<Void, Never>)] = [:]
    /// Heads whose `sluice.yaml` was found invalid, or whose signature was refused (and reported):
    /// not planned again until they move.
    var invalidHeads: [String: String] = [:]
    /// Heads whose commits `verify:` accepted, by ref.
    var verifiedHeads: [String: String] = [:]
    /// The production tip last read, and whether its spec deploys (gate and deploy).
    private var deployingHead: (head: String, deploys: Bool)?
    /// The conditions as last written to the run store.
    private var stored: (repository: Conditions, environments: [String: Conditions])?
    /// When the environment was last compared with the manifests (drift), by environment.
    var lastSyncCheck: [String: Double] = [:]
    /// Set by drain(): pipelines cancelled from now on were stopped, not superseded.
    private var draining = false
    /// Test hook: runs after a pass's fetch, before it acts on what the fetch saw.
    private var afterFetch: (@Sendable () async -> Void)?
    /// Runs started by hand (re-run), by run id.
    var manualRuns: [Int64: Task<Void, Never>] = [:]
    /// Closed merge requests already logged as not run.
    var closedNoted: Set<String> = []
    /// Where each merge request's head lives, by number, once the forge said (it does not change).
    var forkOrigins: [Int: ForkAdmission.Origin] = [:]
    /// Makes this repository's notification events (nil: notifications are not configured).
    nonisolated let eventSource: EventSource?
    /// Events of condition changes not yet written (they go with the conditions' next write).
    private var pendingEvents: [NotificationEvent] = []
    /// The conditions the store held when this process started, by environment ("": the repository's).
    private var persisted: [String: Conditions]?
    /// The open merge requests as the forge said during this pass (nil: not asked yet; .some(nil): it could not say).
    var openThisPass: Set<Int>??

    public init(repository: ControllerConfig.Repository, service: RunService, environment: [String: String], mergeRequestParallelism: Int,
                slots: ControllerSlots, notifications: Bool = false, logger: Logger = Logger(label: "sluice.controller")) {
        self.repository = repository
        eventSource = notifications ? EventSource(repository: repository.name, repositoryURL: repository.url) : nil
        self.slots = slots
        self.service = service
        self.environment = environment
        self.mergeRequestParallelism = mergeRequestParallelism
        var log = logger
        log[metadataKey: "repository"] = .string(repository.name)
        self.log = log
    }

    /// A webhook arrived: reconcile now instead of at the next interval.
    public func wake() {
        if let c = wakeUp {
            wakeUp = nil
            c.resume()
        } else {
            pendingWake = true
        }
    }

    /// Runs until the task is cancelled (SIGTERM): then waits for running pipelines.
    public func run() async {
        while !Task.isCancelled {
            await reconcileOnce()
            let base = Double(repository.intervalSeconds)
            let delay = health.healthy ? base * Double.random(in: 0.9...1.1)
                : min(base * 10, 2 * Double(1 << min(health.consecutiveFailures, 8)))
            await sleep(seconds: delay)
        }
    }

    private func sleep(seconds: Double) async {
        if pendingWake { pendingWake = false; return }
        let timer = Task { [weak self] in
            // Cancelled when woken earlier: then it must not wake the next sleep too (every
            // webhook used to cost a second reconcile right after the first).
            do { try await Task.sleep(for: .seconds(seconds)) } catch { return }
            await self?.wake()
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                if pendingWake { pendingWake = false; c.resume() } else { wakeUp = c }
            }
        } onCancel: {
            Task { await self.wake() }
        }
        timer.cancel()
    }

    // MARK: conditions

    /// Sets a repository condition (or an environment's), logs a change once, and stores them.
    func setCondition(_ reason: ConditionReason, message: String, environment name: String? = nil) {
        let now = WallClock.now()
        let (kind, status) = (reason.kind, reason.status)
        var conditions = name.map { health.environments[$0] ?? Conditions() } ?? health.conditions
        let before = conditions[kind]
        if let changed = conditions.set(reason, message: message, at: now) {
            ControllerMetrics.condition(repository: repository.name, environment: name ?? "", changed)
            var metadata: Logger.Metadata = ["condition": .string(kind.rawValue), "status": .string(changed.status.rawValue), "reason": .string(reason.rawValue)]
            if let name { metadata["environment"] = .string(name) }
            log.log(level: status == .false ? .warning : .info, "condition \(kind.rawValue)=\(status.rawValue): \(message)", metadata: metadata)
            if let event = eventSource?.condition(reason, message: message, environment: name, since: changed.transitionTime),
               before != nil || persistedReason(kind, environment: name) != reason.rawValue {
                pendingEvents.append(event)
            }
        }
        if let name { health.environments[name] = conditions } else { health.conditions = conditions }
        updateReady(now: now)
    }

    /// A condition's reason as the last process stored it: a condition first observed after a
    /// restart with the reason it had is no change, and sends no event again.
    private func persistedReason(_ kind: Condition.Kind, environment: String?) -> String? {
        if persisted == nil {
            do { persisted = try service.store.conditions(repository: repository.url)[repository.url] ?? [:] } catch {
                log.error("the stored conditions could not be read: \(error); a condition that persists across the restart may be notified again")
                persisted = [:]
            }
        }
        return persisted?[environment ?? ""]?[kind]?.reason
    }

    private func updateReady(now: Double) {
        var all = health.conditions
        for (_, env) in health.environments { for c in env.all where c.kind != .ready { all.set(c) } }
        let ready = all.updateReady(at: now, required: [.fetched, .specValid])
        if let ready = ready ?? all[.ready] {
            if let changed = health.conditions.set(Condition(.ready, ready.status, reason: ready.reason, message: ready.message, at: now)) {
                ControllerMetrics.condition(repository: repository.name, environment: "", changed)
                log.log(level: ready.status == .true ? .info : .warning, "condition Ready=\(ready.status.rawValue): \(ready.message)",
                        metadata: ["condition": "Ready", "status": .string(ready.status.rawValue), "reason": .string(ready.reason)])
            }
        }
        health.healthy = health.conditions[.fetched]?.status != .false && health.conditions[.specValid]?.status != .false
        health.reason = health.healthy ? nil : [health.conditions[.fetched], health.conditions[.specValid]].compactMap { $0 }
            .first { $0.status == .false }?.message
        ControllerMetrics.poll(repository: repository.name, healthy: health.healthy, consecutiveFailures: health.consecutiveFailures,
                               lastSuccess: health.lastSuccessfulPoll)
        // Written when something changed, not on every poll (each write is a durable SQLite commit).
        guard stored?.repository != health.conditions || stored?.environments != health.environments || !pendingEvents.isEmpty else { return }
        do {
            // The events of these changes are written with them: a crash loses neither or both.
            try service.store.saveConditions(health.conditions, environments: health.environments, repository: repository.url, events: pendingEvents)
            stored = (health.conditions, health.environments)
            pendingEvents = []
        } catch {
            log.error("conditions not stored: \(error)")
        }
    }

    // MARK: reconcile

    /// One reconcile: fetch, start pipelines for new heads, then bring the environment to the
    /// production version (when no production pipeline is running).
    public func reconcileOnce() async {
        if health.conditions[.sandboxed] == nil { reportSandbox() }
        openThisPass = nil
        let now = WallClock.now()
        health.lastPoll = now
        let repo = repository
        let source = SourceReconciler(repository: repo, store: service.store,
                                      credentials: GitCredentials.fromEnvironment(environment), slots: slots)
        let observed: SourceReconciler.Observation
        do {
            guard let fetched = try await source.fetch(known: deployingHead) else { return }
            await afterFetch?()
            observed = fetched
            deployingHead = fetched.deployingHead
            health.consecutiveFailures = 0
            health.lastSuccessfulPoll = now
            setCondition(.fetched, message: "fetched \(repo.url)")
        } catch {
            health.consecutiveFailures += 1
            log.error("fetch failed: \(error)", metadata: ["url": .string(repo.url), "failures": .stringConvertible(health.consecutiveFailures)])
            setCondition(.fetchFailed, message: "\(error)")
            return
        }
        let (productionRef, updates, deploys) = (observed.productionRef, stillPending(observed.updates), observed.deployingHead?.deploys ?? false)
        // A tip that is not run again (already processed, by this controller before a restart or
        // by `sluice run` on the same state folder) still has its spec checked.
        if let tip = observed.tipSpec, production == nil, !updates.contains(where: { $0.ref == productionRef }) {
            switch tip {
            case .valid(let head): setCondition(.valid, message: "\(CommitPlanner.specFile) at \(CommitID(head).short) is valid")
            case .invalid(let head, let errors): setCondition(.invalidSpec, message: "\(CommitPlanner.specFile) at \(CommitID(head).short): " + errors.joined(separator: "; "))
            case .missing(let head): setCondition(.noSpec, message: "commit \(CommitID(head).short) has no \(CommitPlanner.specFile)")
            }
        }
        // Merge requests beyond the parallelism wait, oldest (lowest number) first, and start as
        // soon as one finishes (it wakes the watcher).
        let closed = await closedMergeRequests(among: updates)
        let ordered = updates.filter { !closed.contains($0.ref) }.sorted { (MergeRequestRef.number(of: $0.ref) ?? 0, $0.ref) < (MergeRequestRef.number(of: $1.ref) ?? 0, $1.ref) }
        for update in ordered where invalidHeads[update.ref] != update.head {
            if quarantined(update, production: update.ref == productionRef) { continue }
            guard await sourceVerified(update, production: update.ref == productionRef) else { continue }
            if update.ref == productionRef {
                startProduction(update)
            } else if let running = mergeRequestsRunning[update.ref] {
                if running.head != update.head, await admit(update) {
                    // A push to the merge request supersedes its run in progress.
                    running.task.cancel()
                    health.superseded += 1
                    log.info("superseded by \(CommitID(update.head).short): cancelling the run of \(CommitID(running.head).short)", metadata: ["ref": .string(update.ref)])
                    startMergeRequest(update, after: running.task)
                }
            } else if mergeRequestsRunning.count < mergeRequestParallelism, await admit(update) {
                startMergeRequest(update)
            }
        }
        let pending = Set(updates.map(\.ref))
        health.held = health.held.filter { pending.contains($0.key) }  // merged, closed or run since
        await reconcilePreviews()
        if production == nil, deploys, !productionUnverified {
            await reconcileEnvironment(productionRef: productionRef)
            apply(await ChainStep(repository: repository, service: service, environment: environment, eventSource: eventSource, log: log)
                .advance(productionRef: productionRef))
        }
    }

    /// The updates no run has recorded since the fetch read the tracker: a pipeline that
    /// finished while this pass waited for its fetch recorded its head, and starting that update
    /// would run the commit a second time.
    private func stillPending(_ updates: [RefTracker.Update]) -> [RefTracker.Update] {
        guard !updates.isEmpty else { return updates }
        do {
            let tracker = try RefTracker(store: service.store, repository: repository.url)
            return updates.filter { tracker.lastProcessed($0.ref) != $0.head }
        } catch {
            log.error("the processed refs could not be read again: \(error); acting on what the fetch read")
            return updates
        }
    }

    private func startProduction(_ update: RefTracker.Update) {
        if let running = production {
            if running.commit == update.head { return }
            // A newer commit supersedes the run in progress.
            running.task.cancel()
            health.superseded += 1
            log.info("superseded by \(CommitID(update.head).short): cancelling the run of \(CommitID(running.commit).short)", metadata: ["ref": .string(update.ref)])
        }
        let previous = production?.task
        health.runsStarted += 1
        let task = Task {
            await previous?.value
            await self.runPipeline(update: update, trigger: "watch: \(update.ref) at \(CommitID(update.head).short)", production: true)
            self.finishedProduction(update.head)
        }
        production = (update.head, task)
    }

    private func finishedProduction(_ head: String) { if production?.commit == head { production = nil } }

    func markInvalid(_ ref: String, head: String) { invalidHeads[ref] = head }


    /// Waits for running pipelines; past `grace` seconds they are cancelled (their stages
    /// killed, the runs recorded as cancelled; the refs stay unprocessed, so a restart redoes them).
    public func drain(grace: Double) async {
        draining = true
        let tasks = runningPipelines
        if !tasks.isEmpty { log.info("draining \(tasks.count) running pipeline(s) for up to \(Int(grace)) s") }
        let timer = Task {
            try? await Task.sleep(for: .seconds(grace))  // cancelled when the pipelines finish first
            for t in tasks { t.cancel() }
        }
        for t in tasks { await t.value }
        timer.cancel()
    }

    /// The repository as Sluice reads it: the local path, or the mirror of a remote one.
    static func localRepository(_ repo: ControllerConfig.Repository, service: RunService) throws -> GitRepository {
        try RepositorySource.open(RepositorySource.isRemote(repo.url) ? RepositorySource.mirrorPath(for: repo.url, stateDirectory: service.stateDirectory) : repo.url,
                                  stateDirectory: service.stateDirectory, credentials: GitCredentials())
    }

    var isDraining: Bool { draining }

    /// The pipelines running now: production's, merge requests', operators' re-runs.
    var runningPipelines: [Task<Void, Never>] {
        [production?.task].compactMap { $0 } + mergeRequestsRunning.values.map(\.task) + Array(manualRuns.values)
    }

    func setAfterFetch(_ hook: (@Sendable () async -> Void)?) { afterFetch = hook }
}
