import FoundationEssentials
public import SluiceCore
import SluiceRegistry
import SluiceServer
import SluiceStore

/// `sluice approve` and `sluice environments`: a version's way down the environment chain, as
/// the controller moves it at each poll.
extension ModelOperations {
    /// Approves `version` into `environment` (a `promote: manual` one), then moves it on.
    /// - Parameter say: told of the approval, then of each step taken (indented).
    public func approve(version: String, into environment: String, actor: String, reason: String,
                        say: @escaping @Sendable (String) -> Void) async throws -> EnvironmentChain.Progress {
        let (chain, registered, spec) = try load(version: version)
        let attested = try chain.approve(registered, into: environment, spec: spec, actor: actor, reason: reason, now: WallClock.now(),
                                         repository: repository)
        say("approved: \(model) version \(version) into \(environment) by \(actor)")
        var progress = try await chain.advance(registered, spec: spec, repository: repository, actor: actor,
                                               now: { WallClock.now() }, say: { say("  " + $0) })
        progress.refs = attested + progress.refs
        return progress
    }

    /// Moves on every version whose next step is due (a soak that ended, an approval).
    /// - Parameter say: told of each step taken (indented).
    /// - Parameter moved: told of each version's new position (the refs it wrote are pushed by the caller).
    public func advanceDue(actor: String, say: @escaping @Sendable (String) -> Void,
                           moved: (String, EnvironmentChain.Progress) -> Void) async throws {
        for open in try store.openVersions(model: model) {
            let (chain, registered, spec) = try load(version: open)
            moved(open, try await chain.advance(registered, spec: spec, repository: repository, actor: actor,
                                                now: { WallClock.now() }, say: { say("  " + $0) }))
        }
    }

    /// The environment step log of the model, oldest first.
    public func environmentSteps() throws -> [EnvironmentStepRecord] {
        try store.steps(model: model)
    }

    /// The chain, running command checks as Jobs for versions built on the Kubernetes runner
    /// (with a pod endpoint started when one needs it, as `sluice run` does).
    func chain() throws -> EnvironmentChain {
        var chain = EnvironmentChain(store: store, registry: try promotion.registry, environment: environment, stateDirectory: store.stateDirectory)
        chain.pod = try RunService(stateDirectory: store.stateDirectory, options: PipelineRunner.Options.forCommand(environment: environment))
            .verifyPods(repositoryKey: RepositorySource.stateLocation(location))
        return chain
    }

    /// The chain, the registered version and its commit's spec.
    func load(version: String) throws -> (EnvironmentChain, RegisteredVersion, PipelineSpec) {
        let chain = try chain()
        guard let registered = try chain.registry.version(model: model, version: version) else {
            throw LoadError(message: "\(model) has no version \(version)", hint: "see sluice environments --model \(model)")
        }
        guard let spec = try CommittedSpec.load(repository: repository, commit: registered.commit) else {
            throw LoadError(message: "the commit of \(model) version \(version) (\(CommitID(registered.commit).short)) has no valid \(CommitPlanner.specFile)")
        }
        guard spec.environments.count > 1 else {
            throw LoadError(message: "\(model) version \(version) was built by a sluice.yaml without environments: it goes straight to production")
        }
        return (chain, registered, spec)
    }
}

extension PipelineRunner.Options {
    /// A command's options (`sluice run`, `approve`, `environments`): the Kubernetes runner's pod
    /// endpoint is started on first use, on SLUICE_POD_ENDPOINT_LISTEN (default any port of
    /// 127.0.0.1), advertised as SLUICE_POD_ENDPOINT_URL when set.
    public static func forCommand(jobs: Int? = nil, environment: [String: String]) -> PipelineRunner.Options {
        var options = PipelineRunner.Options(jobs: jobs, environment: environment)
        options.kubernetes = KubernetesRunnerOptions(environment: environment, exchange: PodExchange { exchange in
            try await PodEndpoint.start(exchange: exchange, listen: environment["SLUICE_POD_ENDPOINT_LISTEN"] ?? "127.0.0.1:0",
                                        advertise: environment["SLUICE_POD_ENDPOINT_URL"])
        })
        return options
    }
}
