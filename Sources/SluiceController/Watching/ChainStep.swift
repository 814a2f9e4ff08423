import FoundationEssentials
import Logging
import SluiceCore
import SluiceGit
import SluiceRunner
import SluiceStore

/// The environment chains step of a reconcile: versions on their way down `environments:` move
/// on once their next step is due (a soak that ended, an approval given through the API or
/// `sluice approve`); each environment's `Promoting` condition says where the version stands
/// there. Runs off the watcher's actor and returns the conditions for the watcher to set.
struct ChainStep: Sendable {
    let repository: ControllerConfig.Repository
    let service: RunService
    /// Sluice's environment (`KUBECONFIG`, `PROMETHEUS_URL`, credentials).
    let environment: [String: String]
    /// Makes the repository's notification events (nil: notifications are not configured).
    let eventSource: EventSource?
    let log: Logger

    func advance(productionRef: String) async -> StepReport {
        let (repo, service, environment, log) = (repository, service, environment, self.log)
        var report = StepReport()
        do {
            let git = try await Offload.run { try RepositoryWatcher.localRepository(repo, service: service) }
            guard let head = git.resolveReference(productionRef), let headSpec = try CommittedSpec.load(repository: git, commit: head),
                  headSpec.gate != nil else { return report }
            let model = GateService.modelName(headSpec, repositoryKey: repo.url)
            let registry = try service.registry(for: headSpec)
            var chain = EnvironmentChain(store: service.store, registry: registry, environment: environment, stateDirectory: service.stateDirectory)
            chain.pod = service.verifyPods(repositoryKey: repo.url)
            let publisher = RepositorySource.isRemote(repo.url) ? Publisher(url: repo.url, environment: environment) : nil
            for name in try service.store.openVersions(model: model) {
                guard let version = try registry.version(model: model, version: name),
                      let spec = try CommittedSpec.load(repository: git, commit: version.commit), spec.environments.count > 1 else { continue }
                chain.events = eventSource?.routing(spec)
                let progress = try await chain.advance(version, spec: spec, repository: git, actor: "sluice watch", now: { WallClock.now() },
                                                       say: { log.info("\($0)", metadata: ["model": .string(model)]) })
                if let failure = progress.failure {
                    report.log(.warning, "\(model) version \(name) stopped: \(failure)")
                }
                if let latest = try service.store.steps(model: model, version: name).last {
                    let promoting = Self.promoting(latest, position: progress.position)
                    report.set(promoting.reason, message: promoting.message, environment: promoting.environment)
                }
                if let publisher, !progress.refs.isEmpty { try publisher.push(progress.refs, from: git) }
            }
        } catch {
            report.log(.error, "the environment chain could not move on: \(error)")
        }
        return report
    }

    /// The `Promoting` condition of the environment a version stands at.
    static func promoting(_ step: EnvironmentStepRecord, position: String) -> StepReport.ConditionChange {
        let message = "version \(step.version): \(position)"
        let reason: ConditionReason
        switch step.state {
        case .failed: reason = .stopped
        case .canary: reason = .canary
        case .awaitingApproval: reason = .waitingForApproval
        case .admitted, .entered, .verified, .approved: reason = .progressing
        case .superseded: reason = .superseded
        }
        return StepReport.ConditionChange(reason: reason, message: message, environment: step.environment)
    }
}
