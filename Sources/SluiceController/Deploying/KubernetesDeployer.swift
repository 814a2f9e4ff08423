import Foundation
public import SluiceCore
public import SluiceKube
public import SluiceStore

/// The `kubernetes` target: server-side apply of rendered objects, a dry-run diff, waiting
/// for health like `kubectl rollout status`, and pruning objects Sluice applied earlier to
/// this environment that are no longer rendered (never anything it did not create).
public struct KubernetesDeployer: Sendable {
    public let client: KubeClient
    public let store: RunStore
    public let environment: String
    public let force: Bool

    public init(client: KubeClient, store: RunStore, environment: String, force: Bool = false) {
        self.client = client
        self.store = store
        self.environment = environment
        self.force = force
    }

    /// Kinds applied first, so what others refer to exists (namespaces, config, accounts).
    static let order = ["Namespace", "CustomResourceDefinition", "ServiceAccount", "Secret", "ConfigMap", "Service"]

    static func json(_ object: ManifestObject) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(NodeJSON.render(object.node).utf8))) as? [String: Any] ?? [:]
    }

    static func sorted(_ objects: [ManifestObject]) -> [ManifestObject] {
        objects.sorted { a, b in
            let ia = order.firstIndex(of: a.kind) ?? order.count, ib = order.firstIndex(of: b.kind) ?? order.count
            return ia != ib ? ia < ib : a.fileName < b.fileName
        }
    }

    /// What applying would change, object by object (server-side dry run against the live objects).
    public func diff(_ objects: [ManifestObject]) throws -> [String] {
        var current: [(path: String, content: String)] = []
        var next: [(path: String, content: String)] = []
        for object in Self.sorted(objects) {
            let body = Self.json(object)
            if let live = try client.get(apiVersion: object.apiVersion, kind: object.kind, namespace: object.namespace, name: object.name) {
                current.append((object.fileName, Self.comparable(live)))
            }
            next.append((object.fileName, Self.comparable(try client.apply(body, dryRun: true, force: force))))
        }
        for item in try prunable(keeping: objects) {
            current.append(("\(item.namespace.isEmpty ? "_cluster" : item.namespace)/\(item.kind.lowercased())-\(item.name).yaml", "(live)"))
        }
        return ManifestDiff.lines(current: current, next: next)
    }

    /// Server-managed fields removed, keys sorted, one field per line: what a reviewer compares.
    static func comparable(_ object: [String: Any]) -> String {
        var o = object
        o.removeValue(forKey: "status")
        if var meta = o["metadata"] as? [String: Any] {
            for k in ["managedFields", "resourceVersion", "uid", "creationTimestamp", "generation"] { meta.removeValue(forKey: k) }
            o["metadata"] = meta
        }
        var lines: [String] = []
        func walk(_ value: Any, _ path: String) {
            if let d = value as? [String: Any] {
                for k in d.keys.sorted() { walk(d[k]!, path.isEmpty ? k : path + "." + k) }
            } else if let a = value as? [Any] {
                for (i, v) in a.enumerated() { walk(v, "\(path)[\(i)]") }
            } else {
                lines.append("\(path): \(value)")
            }
        }
        walk(o, "")
        return lines.joined(separator: "\n")
    }

    /// Applies every object, then prunes what this environment no longer renders.
    public func apply(_ objects: [ManifestObject], progress: (String) -> Void = { _ in }) throws -> (applied: [String], pruned: [String]) {
        var applied: [String] = []
        for object in Self.sorted(objects) {
            _ = try client.apply(Self.json(object), force: force)
            applied.append(object.displayName)
            progress("applied \(object.displayName)")
        }
        let stale = try prunable(keeping: objects)
        var pruned: [String] = []
        for item in stale {
            // Only what still carries Sluice's labels for this environment is deleted.
            guard let live = try client.get(apiVersion: item.apiVersion, kind: item.kind, namespace: item.namespace.isEmpty ? nil : item.namespace, name: item.name),
                  let labels = (live["metadata"] as? [String: Any])?["labels"] as? [String: String],
                  labels[ManifestObject.managedByLabel] == "sluice", labels[ManifestObject.environmentLabel] == environment else { continue }
            try client.delete(apiVersion: item.apiVersion, kind: item.kind, namespace: item.namespace.isEmpty ? nil : item.namespace, name: item.name)
            pruned.append("\(item.kind) \(item.namespace.isEmpty ? "" : item.namespace + "/")\(item.name)")
            progress("pruned \(pruned.last!)")
        }
        try store.setInventory(objects.map { inventoryItem($0) }, environment: environment)
        return (applied, pruned)
    }

    func prunable(keeping objects: [ManifestObject]) throws -> [RunStore.InventoryItem] {
        let keep = Set(objects.map { inventoryItem($0) })
        return try store.inventory(environment: environment).filter { !keep.contains($0) }
    }

    /// Waits until every workload is healthy, or one fails, or `timeout` passes.
    public func waitHealthy(_ objects: [ManifestObject], timeout: Double, progress: (String) -> Void = { _ in }) throws -> (healthy: Bool, message: String?) {
        let workloads = objects.filter { RolloutStatus.workloadKinds.contains($0.kind) }
        let deadline = Date().addingTimeInterval(timeout)
        var lastSaid: [String: String] = [:]
        while true {
            var waiting: [String] = []
            for w in workloads {
                guard let live = try client.get(apiVersion: w.apiVersion, kind: w.kind, namespace: w.namespace, name: w.name) else {
                    return (false, "\(w.displayName) disappeared while rolling out")
                }
                switch RolloutStatus.of(live) {
                case .ready: continue
                case .failed(let why): return (false, why)
                case .waiting(let why):
                    waiting.append(why)
                    if lastSaid[w.displayName] != why { progress(why); lastSaid[w.displayName] = why }
                }
            }
            if waiting.isEmpty { return (true, nil) }
            if Date() > deadline { return (false, "not healthy after \(Int(timeout))s: " + waiting.joined(separator: "; ")) }
            usleep(250_000)
        }
    }
}

func inventoryItem(_ o: ManifestObject) -> RunStore.InventoryItem {
    RunStore.InventoryItem(apiVersion: o.apiVersion, kind: o.kind, namespace: o.namespace ?? "", name: o.name)
}
