import FoundationEssentials
import Logging
import SluiceCore
import SluiceGit
import SluiceRunner
import SluiceStore

/// The operator's actions on the environment chain (the UI's and API's approvals into a
/// `promote: manual` environment).
extension RepositoryWatcher {
    /// Whether a version of `model` built from this repository is on its way down `environments:`.
    public func chains(model: String) throws -> Bool {
        guard let run = try service.store.steps(model: model).last?.runId, let record = try service.store.run(run) else { return false }
        return record.repository == repository.url
    }

    /// Approves a version into a `promote: manual` environment (API, UI), then moves it on at once.
    /// Returns where it stands.
    public func approve(model: String, version: String, into environment: String, actor: String, reason: String) async throws(ActionError) -> String {
        let (repo, service, env, log) = (repository, service, self.environment, self.log)
        do {
            let git = try await Offload.run { try Self.localRepository(repo, service: service) }
            let store = service.store
            guard let head = git.resolveReference(ProductionBranch.ref(try ProductionBranch.resolve(configured: repo.branch, repository: git))),
                  let headSpec = try CommittedSpec.load(repository: git, commit: head) else {
                throw ActionError.conflict("the production branch of \(repo.name) has no valid \(CommitPlanner.specFile)")
            }
            let registry = try service.registry(for: headSpec)
            guard let registered = try registry.version(model: model, version: version) else { throw ActionError.notFound("\(model) has no version \(version)") }
            guard let spec = try CommittedSpec.load(repository: git, commit: registered.commit), spec.environments.count > 1 else {
                throw ActionError.conflict("\(model) version \(version) was built without environments: it went straight to production")
            }
            var chain = EnvironmentChain(store: store, registry: registry, environment: env, stateDirectory: service.stateDirectory)
            chain.pod = service.verifyPods(repositoryKey: repo.url)
            chain.events = eventSource?.routing(spec)
            let attested: [String]
            do {
                attested = try chain.approve(registered, into: environment, spec: spec, actor: actor, reason: reason, now: WallClock.now(), repository: git)
            } catch let refused as LoadError {
                throw ActionError.conflict(refused.description)
            }
            let progress = try await chain.advance(registered, spec: spec, repository: git, actor: actor, now: { WallClock.now() },
                                                   say: { log.info("\($0)", metadata: ["model": .string(model)]) })
            if RepositorySource.isRemote(repo.url), !(attested + progress.refs).isEmpty {
                try Publisher(url: repo.url, environment: env).push(attested + progress.refs, from: git)
            }
            return progress.position
        } catch let error as ActionError {
            throw error
        } catch {
            throw .failed("\(error)")
        }
    }
}
