import Foundation
import Synchronization

/// Leader election with a `coordination.k8s.io/v1` Lease, as client-go does it: the leader
/// renews the lease every `renewSeconds`; a follower takes it over only once it has expired,
/// with the resourceVersion it read, so two followers cannot both win. Writes use server-side
/// apply with a field manager per identity.
public final class LeaderElection: Sendable {
    public let client: KubeClient
    public let namespace: String
    public let name: String
    public let identity: String
    public let leaseSeconds: Int

    /// The Lease annotation where the leader says where its web UI is, so followers can serve
    /// the leader's pages (their own state directory holds no runs).
    public static let leaderURLAnnotation = "sluice.dev/leader-url"

    /// This replica's URL as other replicas reach it (set once the server listens).
    public let advertisedURL = Mutex<String?>(nil)

    /// The Lease's `leaseTransitions` as this replica last wrote it: client-go counts each change
    /// of holder (not a renewal), and a release keeps the count.
    private let transitions = Mutex(0)

    public enum State: Sendable, Equatable {
        case leader
        /// `url`: where the leader serves its UI, when it said.
        case follower(holder: String, url: String?)
        /// The lease cannot be read or written (e.g. RBAC): never act as leader.
        case failed(String)
    }

    public init(client: KubeClient, namespace: String, name: String, identity: String, leaseSeconds: Int = 15) {
        self.client = client
        self.namespace = namespace
        self.name = name
        self.identity = identity
        self.leaseSeconds = leaseSeconds
    }

    static func now() -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f.string(from: Date())
    }

    static func parse(_ text: String?) -> Date? {
        guard let text else { return nil }
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let d = f.date(from: text) { return d }
        f.formatOptions = [.withInternetDateTime]
        return f.date(from: text)
    }

    func lease(holder: String, acquire: String?, resourceVersion: String?) -> [String: Any] {
        var metadata: [String: Any] = ["name": name, "namespace": namespace]
        if let resourceVersion { metadata["resourceVersion"] = resourceVersion }
        if holder == identity, let url = advertisedURL.withLock({ $0 }) { metadata["annotations"] = [Self.leaderURLAnnotation: url] }
        var spec: [String: Any] = ["holderIdentity": holder, "leaseDurationSeconds": leaseSeconds, "renewTime": Self.now(),
                                   "leaseTransitions": transitions.withLock { $0 }]
        if let acquire { spec["acquireTime"] = acquire }
        return ["apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": metadata, "spec": spec]
    }

    /// One round: acquire, renew, or observe who leads.
    public func tryAcquireOrRenew() -> State {
        do {
            let current = try client.get(apiVersion: "coordination.k8s.io/v1", kind: "Lease", namespace: namespace, name: name)
            let spec = current?["spec"] as? [String: Any] ?? [:]
            let holder = spec["holderIdentity"] as? String ?? ""
            let rv = (current?["metadata"] as? [String: Any])?["resourceVersion"] as? String
            let renewed = Self.parse(spec["renewTime"] as? String) ?? .distantPast
            let duration = Double(spec["leaseDurationSeconds"] as? Int ?? leaseSeconds)
            let expired = Date().timeIntervalSince(renewed) > duration
            if current != nil, holder != identity, !holder.isEmpty, !expired {
                let annotations = (current?["metadata"] as? [String: Any])?["annotations"] as? [String: Any]
                return .follower(holder: holder, url: annotations?[Self.leaderURLAnnotation] as? String)
            }
            let acquire = holder == identity ? (spec["acquireTime"] as? String) : Self.now()
            // 0 when absent; a count out of the API's int32 range, which no server stores, starts again.
            let counted = (spec["leaseTransitions"] as? Int).flatMap { (0..<Int(Int32.max)).contains($0) ? $0 : nil } ?? 0
            transitions.withLock { $0 = current == nil || holder == identity ? counted : counted + 1 }
            _ = try KubeClientApplier(client: client, manager: "sluice-\(identity)")
                .apply(lease(holder: identity, acquire: acquire, resourceVersion: rv), force: current != nil)
            return .leader
        } catch {
            if error.status == 409 {
                return .follower(holder: "another replica (it won the race for the lease)", url: nil)
            }
            return .failed("lease \(namespace)/\(name): \(error)")
        }
    }

    /// Gives the lease up (on shutdown) so a follower need not wait for it to expire.
    public func release() {
        guard let current = try? client.get(apiVersion: "coordination.k8s.io/v1", kind: "Lease", namespace: namespace, name: name),
              (current["spec"] as? [String: Any])?["holderIdentity"] as? String == identity else { return }
        let rv = (current["metadata"] as? [String: Any])?["resourceVersion"] as? String
        _ = try? KubeClientApplier(client: client, manager: "sluice-\(identity)").apply(lease(holder: "", acquire: nil, resourceVersion: rv), force: true)
    }
}

/// Applies with a specific field manager (each replica owns its own writes to the lease).
struct KubeClientApplier {
    let client: KubeClient
    let manager: String

    func apply(_ object: [String: Any], force: Bool) throws(KubeError) -> [String: Any] {
        try KubeClient(config: client.config, fieldManager: manager).apply(object, force: force)
    }
}
