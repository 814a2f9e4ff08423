import FoundationEssentials
public import SluiceCore
import SluiceGit

/// `sluice run`: one commit's pipeline in the foreground, through the same `CommitPipeline` the
/// controller uses (stages, gate, promotion, deploy), with the run recorded in the state folder.
public struct CommandRun: Sendable {
    /// What `sluice run` was asked for.
    public struct Request: Sendable {
        public var location: String
        public var stateDirectory: String
        public var environment: [String: String]
        public var revision: String
        public var since: String?
        /// The ref the run belongs to (a branch name or a full ref; default: the checked-out branch).
        public var ref: String?
        public var jobs: Int?
        public var keepWorkspace = false
        public var runner: RunnerSpec.Kind?
        /// Sandbox every stage, not only a merge request's.
        public var sandboxAllStages = false
        public var allowUnsandboxed = false
        /// Run only if the commit (with `mode: all`, every commit since `since`) is signed by a trusted key.
        public var verify: SourceVerification?

        public init(location: String, stateDirectory: String, environment: [String: String], revision: String, since: String?, ref: String?) {
            self.location = location
            self.stateDirectory = stateDirectory
            self.environment = environment
            self.revision = revision
            self.since = since
            self.ref = ref
        }
    }

    public enum Prepared: Sendable {
        case run(CommandRun)
        /// Nothing to run: the commit has no usable spec (its diagnostics and notes say why).
        case noSpec(CommitPlanner.Outcome)
    }

    let service: RunService
    let repository: GitRepository
    let record: RunRecord
    let work: PipelineRunner.Work
    let request: Request

    /// The run's id in the state folder.
    public var runID: Int64 { record.id! }
    /// The plan: the stages in order and the planner's notes.
    public var plan: SluiceCore.Plan { work.plan }

    /// Opens the state folder (queueing again runs a crash interrupted; `recovered` is told of
    /// each) and the repository, plans the commit and records the run.
    public static func prepare(_ request: Request, recovered: (String) -> Void) throws -> Prepared {
        var options = PipelineRunner.Options.forCommand(jobs: request.jobs, environment: request.environment)
        options.keepWorkspace = request.keepWorkspace
        options.runnerOverride = request.runner
        let service = try RunService(stateDirectory: request.stateDirectory, options: options)
        for r in try service.recover() {
            recovered(r.said)
        }
        let repository = try RepositorySource.open(request.location, stateDirectory: request.stateDirectory,
                                                   credentials: GitCredentials.fromEnvironment(request.environment))
        let refName = request.ref.map { $0.hasPrefix("refs/") ? $0 : "refs/heads/" + $0 } ?? repository.headBranch.map { "refs/heads/" + $0 }
        if let verify = request.verify {
            let head = try repository.commit(request.revision).id
            let base = try request.since.map { try repository.commit($0).id }
            if case .refused(let why) = try CommitVerifier(settings: verify, environment: request.environment).verify(from: base, to: head, in: repository) {
                throw LoadError(message: "not run: \(why)", hint: "sign it with a trusted key (git commit -S), or run without --verify-gpg-keys/--verify-ssh-allowed-signers")
            }
        }
        switch try service.prepare(repository: repository, repositoryKey: RepositorySource.stateLocation(request.location), revision: request.revision,
                                   since: request.since, ref: refName, trigger: "sluice run") {
        case .noSpec(let outcome):
            return .noSpec(outcome)
        case .run(let record, var work):
            // A ref's head run to the end is processed as the controller would record it: a
            // controller on the same store does not run it again.
            work.recordsRef = work.ref.map { repository.resolveReference($0) == record.commit } ?? false
            work.sandboxAllStages = request.sandboxAllStages
            work.allowUnsandboxed = request.allowUnsandboxed
            return .run(CommandRun(service: service, repository: repository, record: record, work: work, request: request))
        }
    }

    /// Runs the pipeline; cancelling the task stops the stages and records the run as cancelled
    /// with `cancelReason`.
    /// - Parameters:
    ///   - warn: forge problems while reporting on a merge request.
    ///   - progress: the deploy's steps.
    public func execute(events: @escaping @Sendable (RunEvent) -> Void, warn: @escaping @Sendable (String) -> Void,
                        progress: @escaping @Sendable (String) -> Void, cancelReason: @Sendable () async -> String) async throws -> CommitPipeline.Outcome {
        let environment = request.environment
        let pipeline = CommitPipeline(
            service: service, repository: repository,
            notifier: MergeRequestNotifier.forRef(work.ref, environment: environment, warn: warn),
            publisher: RepositorySource.isRemote(request.location) ? Publisher(url: request.location, environment: environment) : nil,
            progress: progress)
        return try await pipeline.execute(record, work: work, events: events, cancelReason: cancelReason)
    }
}
