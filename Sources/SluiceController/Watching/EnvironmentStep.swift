import FoundationEssentials
import Logging
import SluiceCore
import SluiceGit
import SluiceRunner

/// The environment step of a reconcile: the registry brought to the promotion log
/// (`RegistryInSync`, only when a move was due), the production version deployed (`Deployed`),
/// and the live environment compared with its manifests every `sync.interval` (`InSync`,
/// `selfHeal`). It observes and acts off the watcher's actor and returns what it found
/// (`EnvironmentPass`), whose `report` the watcher applies.
struct EnvironmentStep: Sendable {
    let repository: ControllerConfig.Repository
    let service: RunService
    /// Sluice's environment (`KUBECONFIG`, credentials).
    let environment: [String: String]
    let log: Logger

    /// - Parameter lastSyncCheck: when each environment was last compared with its manifests.
    func pass(productionRef: String, lastSyncCheck: [String: Double], now: Double) async throws -> EnvironmentPass {
        let (repo, service, environment, log) = (repository, service, environment, self.log)
        return try await Offload.run { () throws -> EnvironmentPass in
            let git = try RepositoryWatcher.localRepository(repo, service: service)
            guard let head = git.resolveReference(productionRef), let spec = try CommittedSpec.load(repository: git, commit: head),
                  spec.gate != nil else { return EnvironmentPass() }
            let registry = try service.registry(for: spec)
            let model = GateService.modelName(spec, repositoryKey: repo.url)
            var pass = EnvironmentPass()
            // A registry move the promotion log decided and the registry has not confirmed (refused, or a crash in between).
            if try service.store.registryMove(model: model) != nil {
                pass.registryMoved = true
                pass.registryProblem = try Promotion(store: service.store, registry: registry, environment: environment).syncRegistry(model: model)
            }
            guard let deploy = spec.deploy else { return pass }
            pass.environment = deploy.environment
            for path in git.removeAbandonedLocks(forRefs: CommitPipeline.writtenRefs(spec)) {
                log.warning("removed \(path), a lock file a killed git writer left behind")
            }
            let reconciler = EnvironmentReconciler(store: service.store, registry: registry, environment: environment)
            let publisher = RepositorySource.isRemote(repo.url) ? Publisher(url: repo.url, environment: environment) : nil
            do {
                pass.deploy = try reconciler.ensureDeployed(model: model, deploy: deploy, repository: git, progress: { log.info("deploy: \($0)") })
                if case .deployed(_, _, let r) = pass.deploy, r.commit != nil { try publisher?.push(["refs/heads/" + r.branch], from: git) }
            } catch {
                pass.deployError = "\(error)"
                pass.rolloutFailed = error is EnvironmentReconciler.RolloutFailed
            }
            if now - (lastSyncCheck[deploy.environment] ?? 0) >= Double(spec.sync.intervalSeconds) {
                do {
                    pass.drift = try reconciler.checkDrift(model: model, selfHeal: spec.sync.selfHeal, repository: git,
                                                           progress: { log.info("self-heal: \($0)") })
                    if let healed = pass.drift?.healed, healed.commit != nil { try publisher?.push(["refs/heads/" + healed.branch], from: git) }
                } catch {
                    pass.driftError = "\(error)"
                }
                pass.checkedDrift = true
            }
            return pass
        }
    }
}

/// What one environment pass found (computed off the actor).
struct EnvironmentPass: Sendable {
    /// A due registry move was tried; `registryProblem` says why it did not finish.
    var registryMoved = false
    var registryProblem: String?
    var environment: String?
    var deploy: EnvironmentReconciler.Action?
    var deployError: String?
    /// The deploy error is workloads that did not become ready.
    var rolloutFailed = false
    var drift: EnvironmentReconciler.Drift?
    var driftError: String?
    var checkedDrift = false
}

extension EnvironmentPass {
    /// The conditions the environment step owns (`RegistryInSync`, and the environment's
    /// `Deployed` and `InSync`), from what the pass found, and what to log about it.
    var report: StepReport {
        var report = StepReport()
        if registryMoved {
            if let problem = registryProblem {
                report.log(.error, problem)
                report.set(.registryMoveFailed, message: problem)
            } else {
                report.log(.info, "the registry's production marker now names the promotion log's version")
                report.set(.registryMoved, message: "the registry names the promotion log's production version")
            }
        }
        guard let name = environment else { return report }
        switch deploy {
        case .deployed(let version, let previous, let r)?:
            report.log(.info, "deployed version \(version) to \(r.branch) (it ran \(previous ?? "no version known to this state folder"))", environment: name)
            report.set(.deployed, message: "runs production's version \(version)", environment: name)
            if r.healthy == true { report.set(.rolloutComplete, message: "version \(version)'s workloads are ready", environment: name) }
        case .upToDate(let version)?:
            report.set(.upToDate, message: "runs production's version \(version)", environment: name)
        case .nothingInProduction?, .noDeploy?, nil:
            break
        }
        if let error = deployError {
            report.log(.error, "deploy failed: \(error)", environment: name)
            report.set(.deployFailed, message: error, environment: name)
            if rolloutFailed { report.set(.rolloutFailed, message: error, environment: name) }
        }
        if let drift {
            let changes = drift.changes.joined(separator: "; ")
            if drift.inSync {
                report.set(.inSync, message: "matches version \(drift.version)'s manifests", environment: name)
            } else if let healed = drift.healed {
                report.log(.warning, "drift corrected (selfHeal): \(changes)", environment: name)
                report.set(healed.healthy == false ? .selfHealFailed : .selfHealed,
                           message: "re-applied version \(drift.version)'s manifests; the environment had drifted: " + changes, environment: name)
            } else {
                report.log(.warning, "drift: the environment differs from version \(drift.version)'s manifests: \(changes)", environment: name)
                report.set(.drifted, message: "differs from version \(drift.version)'s manifests (set sync.selfHeal to correct it): " + changes, environment: name)
            }
        }
        if let error = driftError {
            report.log(.error, "drift check failed: \(error)", environment: name)
            report.set(.driftCheckFailed, message: error, environment: name)
        }
        return report
    }
}

extension RepositoryWatcher {
    /// Runs the environment step and applies what it found.
    func reconcileEnvironment(productionRef: String) async {
        let now = WallClock.now()
        do {
            let pass = try await EnvironmentStep(repository: repository, service: service, environment: environment, log: log)
                .pass(productionRef: productionRef, lastSyncCheck: lastSyncCheck, now: now)
            if pass.checkedDrift, let name = pass.environment { lastSyncCheck[name] = now }
            apply(pass.report)
        } catch {
            log.error("the environment could not be reconciled: \(error)")
        }
    }
}
