import FoundationEssentials
import Logging
import SluiceCore
import SluiceGit
import SluiceRunner

/// Versions on their way down `environments:` move on at each poll once their next step is
/// due (a soak that ended, an approval given through the API or `sluice approve`).
extension RepositoryWatcher {
    func advanceEnvironmentChains(productionRef: String) async {
        let (repo, service, environment, log) = (repository, service, environment, self.log)
        do {
            let git = try await Offload.run { try Self.localRepository(repo, service: service) }
            guard let head = git.resolveReference(productionRef), let bytes = try git.commit(head).contents(at: CommitPlanner.specFile),
                  let headSpec = SpecLoader.load(bytes: bytes, file: CommitPlanner.specFile, paths: nil).spec, headSpec.gate != nil else { return }
            let model = GateService.modelName(headSpec, repositoryKey: repo.url)
            let registry = try service.registry(for: headSpec)
            let chain = EnvironmentChain(store: service.store, registry: registry, environment: environment, stateDirectory: service.stateDirectory)
            let publisher = RepositorySource.isRemote(repo.url) ? Publisher(url: repo.url, environment: environment) : nil
            for name in try service.store.openVersions(model: model) {
                guard let version = try registry.version(model: model, version: name),
                      let specBytes = try git.commit(version.commit).contents(at: CommitPlanner.specFile),
                      let spec = SpecLoader.load(bytes: specBytes, file: CommitPlanner.specFile, paths: nil).spec,
                      spec.environments.count > 1 else { continue }
                let progress = try await chain.advance(version, spec: spec, repository: git, actor: "sluice watch", now: { PipelineRunner.now() },
                                                       say: { log.info("\($0)", metadata: ["model": .string(model)]) })
                if let failure = progress.failure {
                    log.warning("\(model) version \(name) stopped: \(failure)")
                }
                if let publisher, !progress.refs.isEmpty { try publisher.push(progress.refs, from: git) }
            }
        } catch {
            log.error("the environment chain could not move on: \(error)")
        }
    }
}
