import FoundationEssentials
public import SluiceCore
import SluiceForge
import SluiceGit
import SluiceRunner
import SluiceStore

/// Reconciles one repository: polls it on its interval (or at once on a webhook), runs the
/// newest commit of the production branch — a newer one supersedes a run still in progress,
/// which is cancelled and recorded — and merge-request heads beside it, up to a limit. A
/// repository that cannot be reached, or whose `sluice.yaml` is broken, is marked unhealthy
/// with the reason and retried with backoff; the other repositories are not affected.
public actor RepositoryWatcher {
    public struct Health: Sendable, Codable {
        public var healthy = true
        public var reason: String?
        public var lastPoll: Double?
        public var lastSuccessfulPoll: Double?
        public var consecutiveFailures = 0
        public var runsStarted = 0
        public var superseded = 0
    }

    nonisolated public let repository: ControllerConfig.Repository
    public let service: RunService
    public let environment: [String: String]
    public let mergeRequestParallelism: Int
    public internal(set) var health = Health()
    private var wakeUp: CheckedContinuation<Void, Never>?
    private var pendingWake = false
    private var production: (commit: String, task: Task<Void, Never>)?
    private var mergeRequestsRunning: [String: Task<Void, Never>] = [:]
    /// Set by drain(): pipelines cancelled from now on were stopped, not superseded.
    private var draining = false
    /// A remote repository's mirror, kept open between polls (see GitMirror.Handle).
    private var mirror: GitMirror.Handle?
    /// Runs started by hand (re-run), by run id.
    var manualRuns: [Int64: Task<Void, Never>] = [:]

    public init(repository: ControllerConfig.Repository, service: RunService, environment: [String: String], mergeRequestParallelism: Int) {
        self.repository = repository
        self.service = service
        self.environment = environment
        self.mergeRequestParallelism = mergeRequestParallelism
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
            try? await Task.sleep(for: .seconds(seconds))
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

    /// One poll: fetch, find new heads, start their pipelines.
    public func reconcileOnce() async {
        let now = PipelineRunner.now()
        health.lastPoll = now
        let repo = repository
        let state = service.stateDirectory
        let credentials = GitCredentials.fromEnvironment(environment)
        do {
            let kept = mirror
            let (productionRef, updates, opened) = try await Offload.run { () throws -> (String, [RefTracker.Update], GitMirror.Handle?) in
                var handle = kept
                let git = try RepositorySource.open(repo.url, stateDirectory: state, credentials: credentials, mergeRequests: repo.mergeRequests,
                                                    reusing: &handle)
                let branch = repo.branch ?? git.defaultBranch ?? "main"
                let refs = try RefTracker.trackedRefs(in: git, branches: [branch], mergeRequests: repo.mergeRequests)
                let tracker = try RefTracker(stateDirectory: state, repository: repo.url)
                return ("refs/heads/" + branch, try tracker.updates(in: git, refs: refs), handle)
            }
            mirror = opened
            health.healthy = true
            health.reason = nil
            health.consecutiveFailures = 0
            health.lastSuccessfulPoll = now
            for update in updates {
                if update.ref == productionRef {
                    startProduction(update)
                } else if mergeRequestsRunning[update.ref] == nil, mergeRequestsRunning.count < mergeRequestParallelism {
                    startMergeRequest(update)
                }
            }
        } catch {
            health.healthy = false
            health.reason = "\(error)"
            health.consecutiveFailures += 1
        }
    }

    private func startProduction(_ update: RefTracker.Update) {
        if let running = production {
            if running.commit == update.head { return }
            // A newer commit supersedes the run in progress.
            running.task.cancel()
            health.superseded += 1
        }
        let previous = production?.task
        health.runsStarted += 1
        let task = Task {
            await previous?.value
            await self.runPipeline(update: update, trigger: "watch: \(update.ref) at \(update.head.prefix(12))")
        }
        production = (update.head, task)
    }

    private func startMergeRequest(_ update: RefTracker.Update) {
        health.runsStarted += 1
        mergeRequestsRunning[update.ref] = Task {
            await self.runPipeline(update: update, trigger: "watch: merge request \(update.ref)")
            self.finishedMergeRequest(update.ref)
        }
    }

    private func finishedMergeRequest(_ ref: String) { mergeRequestsRunning[ref] = nil }

    /// Waits for running pipelines; past `grace` seconds they are cancelled (their stages
    /// killed, the runs recorded as cancelled; the refs stay unprocessed, so a restart redoes them).
    public func drain(grace: Double) async {
        draining = true
        let tasks = [production?.task].compactMap { $0 } + Array(mergeRequestsRunning.values) + Array(manualRuns.values)
        let timer = Task {
            try? await Task.sleep(for: .seconds(grace))
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

    /// Plans, runs and gates one commit; records the ref as processed once its results are stored.
    nonisolated func runPipeline(update: RefTracker.Update, trigger: String) async {
        let repo = repository
        do {
            let git = try Self.localRepository(repo, service: service)
            guard case .run(let record, let work) = try service.prepare(repository: git, repositoryKey: repo.url, revision: update.head,
                                                                         since: update.base, ref: update.ref, trigger: trigger) else {
                try RefTracker(stateDirectory: service.stateDirectory, repository: repo.url).record(update.ref, commit: update.head)
                return
            }
            guard try await execute(record, work: work, git: git, ref: update.ref) != .cancelled else { return }
            try RefTracker(stateDirectory: service.stateDirectory, repository: repo.url).record(update.ref, commit: update.head)
        } catch {
            // The run (if any) says what failed; the ref is not recorded, so the next poll retries.
        }
    }

    /// Runs a queued run's stages, gates it (promoting and deploying on the production branch)
    /// and tells the merge request, if it is one.
    nonisolated func execute(_ record: RunRecord, work: PipelineRunner.Work, git: GitRepository, ref: String) async throws -> RunStatus {
        let repo = repository
        var notifier: MergeRequestNotifier?
        let forgeEnvironment = repo.effectiveForge.map { $0.environment(over: environment) } ?? environment
        if let mr = ForgeConfiguration.mergeRequest(of: ref), let forge = try? ForgeConfiguration.fromEnvironment(forgeEnvironment) {
            notifier = MergeRequestNotifier(forge: forge, mergeRequest: mr, reportURLTemplate: environment["SLUICE_REPORT_URL"])
            _ = notifier?.started(commit: record.commit, run: record.id!)
        }
        let commit = try git.commit(record.commit)
        let status = try await service.runner.execute(record, commit: commit, work: work)
        if status == .cancelled {
            let why = await draining ? "the controller stopped before it finished (a restart runs it again)" : "superseded by a newer commit on \(ref)"
            try? service.store.setRunStatus(record.id!, .cancelled, at: PipelineRunner.now(), message: why)
            return status
        }
        var gate: GateService.Outcome?
        if status == .succeeded, work.spec.gate != nil {
            let environment = environment
            gate = try service.gate(run: record, work: work, repository: git, commit: commit, publish: { refs in
                Self.publish(refs, repository: repo, git: git, environment: environment)
            })
        }
        _ = notifier?.finished(commit: record.commit, run: record.id!, report: gate?.report, markdown: gate?.markdown,
                               runSucceeded: status == .succeeded, runMessage: nil)
        return status
    }

    /// Pushes Sluice's refs (notes, environment branches) back when the repository is remote.
    static func publish(_ refs: [String], repository repo: ControllerConfig.Repository, git: GitRepository, environment: [String: String]) {
        guard RepositorySource.isRemote(repo.url), !refs.isEmpty else { return }
        try? GitMirror.push(git, refs: refs, url: repo.url, credentials: GitCredentials.fromEnvironment(environment))
    }
}
