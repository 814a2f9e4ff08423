import SluiceCore
import SluiceGit
import SluiceKube
import SluiceStore

/// `target: kubernetes`: server-side apply through the API server, health from the workloads'
/// rollout status, pruning by this repository's and environment's inventory.
struct KubernetesTarget: DeployTarget {
    let deploy: DeploySpec
    let deployer: KubernetesDeployer

    init(deploy: DeploySpec, repository: GitRepository, store: RunStore, environment: [String: String]) throws {
        self.deploy = deploy
        let config = try KubeConfig.load(environment: environment, context: deploy.context)
        deployer = KubernetesDeployer(client: KubeClient(config: config), store: store, deploy: deploy, repository: Environments.inventoryKey(repository))
    }

    var name: String { "kubernetes:\(deployer.client.config.context)" }

    func diff(_ objects: [ManifestObject]) throws -> [String] { try deployer.diff(objects) }

    func write(_ objects: [ManifestObject], facts: DeployFacts, action: String, wait: Bool, progress: (String) -> Void) throws -> DeployService.Result {
        let outcome = try deployer.apply(objects, progress: progress)
        var result = DeployService.Result(branch: name, kind: .kubernetes, commit: nil, changes: outcome.changed.map { "~ \($0)" } + outcome.notes)
        if wait {
            let health = try deployer.waitHealthy(objects, timeout: Double(deploy.timeoutSeconds), progress: progress)
            result.healthy = health.healthy
            result.failure = health.message
        }
        // Pruned only once the new objects are healthy: a failed rollout keeps what it replaces.
        if result.healthy != false {
            // A prune that fails does not undo a healthy rollout: what is left stays in the
            // inventory and is pruned at the next deploy.
            do {
                let pruning = try deployer.prune(keeping: objects, progress: progress)
                result.pruned = pruning.pruned
                result.kept = pruning.kept
            } catch {
                result.kept.append("pruning stopped: \(error) (tried again at the next deploy)")
                progress("pruning stopped: \(error)")
            }
        }
        return result
    }

    func status(_ objects: [ManifestObject]) throws -> EnvironmentStatus {
        var states: [String: String] = [:]
        for o in objects where RolloutStatus.workloadKinds.contains(o.kind) {
            let live = try deployer.client.get(apiVersion: o.apiVersion, kind: o.kind, namespace: o.namespace, name: o.name)
            states[o.displayName] = live.map { s -> String in
                switch RolloutStatus.of(s) { case .ready: return "healthy"; case .waiting(let w): return "progressing (\(w))"; case .failed(let f): return "FAILED (\(f))" }
            } ?? "missing"
        }
        // A diff the server refuses (a conflict) still leaves the workloads' health worth showing.
        let where_ = "\(deploy.environment): kubernetes context \(deployer.client.config.context) at \(deployer.client.config.server), "
        do {
            let changed = DeployService.objectCount(try deployer.diff(objects))
            return EnvironmentStatus(name: deploy.environment, target: name, inSync: changed == 0, changes: changed,
                                     detail: where_ + (changed == 0 ? "in sync with production" : "OUT OF SYNC (\(changed) objects; `sluice diff`)"),
                                     workloads: states)
        } catch let error as KubeError {
            return EnvironmentStatus(name: deploy.environment, target: name, inSync: nil, changes: 0, detail: where_ + "not compared: \(error)", workloads: states)
        }
    }

    /// Deletes every object of the environment's inventory, workloads first and Namespaces last
    /// (one that holds objects Sluice did not apply is left, and said).
    func removeAll(progress: (String) -> Void) throws -> (said: String, deletedRefs: [String]) {
        let (pruned, kept) = try deployer.prune(keeping: [], progress: progress)
        return ("deleted \(pruned.count) object(s)" + (kept.isEmpty ? "" : "; left in place: " + kept.joined(separator: "; ")), [])
    }
}
