import ArgumentParser
import FoundationEssentials
import SluiceController
import SluiceCore
import SluiceRegistry
import SluiceServer
import SluiceStore

/// `sluice approve MODEL VERSION --to ENV`: lets a version into a `promote: manual` environment.
struct Approve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "approve",
        abstract: "Approve a model version into an environment whose promotion is manual, and move it on.",
        discussion: "Recorded in the environment step log with who and why. The version must be verified in the environment before; exit 1 when it fails there, 2 when it cannot be approved."
    )

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The model.") var model: String
    @Argument(help: "The version.") var version: String
    @Option(help: "The environment to let it into.") var to: String
    @Option(help: "Why (recorded).") var reason: String
    @Option(help: "Who is approving (default: $USER).") var actor: String?

    func run() async throws {
        let context: RegistryContext
        let progress: EnvironmentChain.Progress
        do {
            context = try RegistryContext(global, model: model)
            let (chain, registered, spec) = try EnvironmentContext.load(context, version: version, global: global)
            let who = actor ?? ProcessInfo.processInfo.environment["USER"] ?? "unknown"
            try chain.approve(registered, into: to, spec: spec, actor: who, reason: reason, now: Date().timeIntervalSince1970)
            Output.out("approved: \(model) version \(version) into \(to) by \(who)")
            progress = try await chain.advance(registered, spec: spec, repository: context.repository, actor: who,
                                               now: { Date().timeIntervalSince1970 }, say: { Output.out("  \($0)") })
        } catch {
            throw Output.fail(error)
        }
        Output.out("environments: \(progress.position)")
        context.push(progress.refs, global)
        if progress.failure != nil { throw ExitCode(1) }
    }
}

/// `sluice environments [MODEL]`: where each version stands in the chain.
struct EnvironmentsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "environments",
        abstract: "Where each model version stands in its environments (the step log), and move on those whose soak is over.",
        discussion: "With --advance, versions whose next step is due (a soak that ended, an approval) move on, as the controller does at each poll."
    )

    @OptionGroup var global: GlobalOptions
    @Option(help: "The model (default: gate.model in sluice.yaml, else the repository's folder name).") var model: String?
    @Flag(help: "Move on the versions whose next step is due.") var advance = false

    func run() async throws {
        do {
            let context = try RegistryContext(global, model: model)
            if advance {
                let chain = try EnvironmentContext.chain(context, global: global)
                for step in try context.store.openVersions(model: context.model) {
                    let (_, registered, spec) = try EnvironmentContext.load(context, version: step, global: global)
                    let p = try await chain.advance(registered, spec: spec, repository: context.repository, actor: "sluice environments --advance",
                                                    now: { Date().timeIntervalSince1970 }, say: { Output.out("  \($0)") })
                    Output.out("version \(step): \(p.position)")
                    context.push(p.refs, global)
                }
            }
            let steps = try context.store.steps(model: context.model)
            if global.format == .json { return try Output.json(steps) }
            if steps.isEmpty { return Output.out("\(context.model) has no environment steps yet") }
            for s in steps {
                Output.out("\(EnvironmentChain.time(s.createdAt))  version \(s.version)  \(s.environment)  \(s.state.rawValue)  \(s.detail)"
                           + "  (\(s.actor)\(s.reason.map { ": \($0)" } ?? ""))")
            }
        } catch {
            throw Output.fail(error)
        }
    }
}

enum EnvironmentContext {
    /// The chain, running command checks as Jobs for versions built on the Kubernetes runner (with a
    /// pod endpoint started when one needs it, as `sluice run` does).
    static func chain(_ context: RegistryContext, global: GlobalOptions) throws -> EnvironmentChain {
        let promotion = try context.promotion
        let environment = ProcessInfo.processInfo.environment
        var chain = EnvironmentChain(store: context.store, registry: promotion.registry, environment: environment,
                                     stateDirectory: context.store.stateDirectory)
        var options = PipelineRunner.Options(environment: environment)
        options.kubernetes = KubernetesRunnerOptions(environment: environment, exchange: PodExchange { exchange in
            try await PodEndpoint.start(exchange: exchange, listen: environment["SLUICE_POD_ENDPOINT_LISTEN"] ?? "127.0.0.1:0",
                                        advertise: environment["SLUICE_POD_ENDPOINT_URL"])
        })
        chain.pod = try RunService(stateDirectory: context.store.stateDirectory, options: options)
            .verifyPods(repositoryKey: RepositorySource.stateLocation(global.repo))
        return chain
    }

    /// The chain, the registered version and its commit's spec.
    static func load(_ context: RegistryContext, version: String, global: GlobalOptions) throws -> (EnvironmentChain, RegisteredVersion, PipelineSpec) {
        let chain = try chain(context, global: global)
        guard let registered = try chain.registry.version(model: context.model, version: version) else {
            throw LoadError(message: "\(context.model) has no version \(version)", hint: "see sluice environments --model \(context.model)")
        }
        guard let spec = try CommittedSpec.load(repository: context.repository, commit: registered.commit) else {
            throw LoadError(message: "the commit of \(context.model) version \(version) (\(registered.commit.prefix(12))) has no valid \(CommitPlanner.specFile)")
        }
        guard spec.environments.count > 1 else {
            throw LoadError(message: "\(context.model) version \(version) was built by a sluice.yaml without environments: it goes straight to production")
        }
        return (chain, registered, spec)
    }
}
