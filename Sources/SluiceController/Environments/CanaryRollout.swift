import FoundationEssentials
import SluiceCore
import SluiceGit
import SluiceKube
import SluiceRegistry
import SluiceRunner
#if canImport(Glibc)
import Glibc
#endif

/// The Kubernetes side of a canary: the new version's Deployments, rendered for the
/// environment, applied as `<name>-canary` next to the stable ones (their pods also carry
/// `sluice.dev/track: canary`, which the canary's selector adds, so the two never adopt each
/// other's pods, while the Services, which select the common labels, send traffic to both).
/// Stable Deployments are not touched until the canary reaches 100 %.
struct CanaryRollout {
    let environments: Environments
    let version: RegisteredVersion
    let environment: EnvironmentSpec
    let repository: GitRepository

    static let trackLabel = "sluice.dev/track"
    static let fieldManager = "sluice-canary"

    /// The rendered Deployments and a client for the environment's cluster.
    private func deployments() throws -> (client: KubeClient, objects: [[String: Any]]) {
        guard let rendered = try environments.render(version, repository: repository, environment: environment.name) else {
            throw LoadError(message: "\(version.model) version \(version.version) renders nothing for \(environment.name)")
        }
        try environments.store.requireLeadership(for: "moving the canary of \(version.model) version \(version.version) in \(environment.name)")
        let client = try environments.kubernetes(rendered.deploy, repository: repository).client
        let objects = try rendered.objects.filter { $0.kind == "Deployment" }.map(KubernetesDeployer.json)
        guard !objects.isEmpty else {
            throw LoadError(message: "\(environment.name) has no Deployment to run a canary of", hint: "remove 'strategy' or render a Deployment")
        }
        return (client, objects)
    }

    /// Applies the canary Deployments at `weight` %, waits for them to be ready, and says what runs.
    func set(weight: Int) throws -> String {
        let (client, objects) = try deployments()
        var said: [String] = []
        for stable in objects {
            let meta = stable["metadata"] as? [String: Any] ?? [:]
            let name = meta["name"] as? String ?? "?"
            let namespace = meta["namespace"] as? String
            let replicas = (stable["spec"] as? [String: Any])?["replicas"] as? Int ?? 1
            let count = CanaryStrategy.replicas(stable: replicas, weight: weight)
            let canary = Self.canary(of: stable, replicas: count)
            _ = try client.apply(canary, manager: Self.fieldManager)
            try waitReady(client, namespace: namespace, name: name + "-canary", timeout: Double(environment.deploy.timeoutSeconds))
            let share = Int((Double(count) / Double(count + replicas) * 100).rounded())
            said.append("\(name)-canary: \(count) pod\(count == 1 ? "" : "s") next to \(replicas) stable (\(share) %)")
        }
        return said.joined(separator: "; ")
    }

    /// Deletes the canary Deployments (their pods first); gone already is fine.
    func remove() throws {
        let (client, objects) = try deployments()
        for stable in objects {
            let meta = stable["metadata"] as? [String: Any] ?? [:]
            try client.delete(apiVersion: "apps/v1", kind: "Deployment", namespace: meta["namespace"] as? String,
                              name: (meta["name"] as? String ?? "?") + "-canary", propagation: "Foreground")
        }
    }

    static func canary(of stable: [String: Any], replicas: Int) -> [String: Any] {
        var object = stable
        var meta = object["metadata"] as? [String: Any] ?? [:]
        meta["name"] = (meta["name"] as? String ?? "?") + "-canary"
        var labels = meta["labels"] as? [String: Any] ?? [:]
        labels[trackLabel] = "canary"
        meta["labels"] = labels
        object["metadata"] = meta
        var spec = object["spec"] as? [String: Any] ?? [:]
        spec["replicas"] = replicas
        var selector = spec["selector"] as? [String: Any] ?? [:]
        var match = selector["matchLabels"] as? [String: Any] ?? [:]
        match[trackLabel] = "canary"
        selector["matchLabels"] = match
        spec["selector"] = selector
        var template = spec["template"] as? [String: Any] ?? [:]
        var templateMeta = template["metadata"] as? [String: Any] ?? [:]
        var templateLabels = templateMeta["labels"] as? [String: Any] ?? [:]
        templateLabels[trackLabel] = "canary"
        templateMeta["labels"] = templateLabels
        template["metadata"] = templateMeta
        spec["template"] = template
        object["spec"] = spec
        return object
    }

    private func waitReady(_ client: KubeClient, namespace: String?, name: String, timeout: Double) throws {
        let deadline = ContinuousClock.now + .milliseconds(Int(timeout * 1000))
        while true {
            let live = try client.get(apiVersion: "apps/v1", kind: "Deployment", namespace: namespace, name: name) ?? [:]
            switch RolloutStatus.of(live) {
            case .ready: return
            case .failed(let why): throw LoadError(message: "the canary did not become ready: \(why)")
            case .waiting(let why):
                if ContinuousClock.now > deadline { throw LoadError(message: "the canary did not become ready within \(Int(timeout)) s: \(why)") }
            }
            usleep(200_000)
        }
    }
}
