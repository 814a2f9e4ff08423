import Crypto
import Foundation
import SluiceRunner
import Synchronization
public import SluiceCore
public import SluiceKube
public import SluiceStore

/// The `kubernetes` target: server-side apply of rendered objects — only those that change —
/// a dry-run diff, waiting for health like `kubectl rollout status`, and pruning, after the new
/// objects are healthy, what this repository's environment on this cluster applied before and
/// no longer renders. Nothing else is ever deleted: not another repository's objects, not the
/// environment's own namespace, and a Namespace only with `prune: { namespaces: true }` and
/// only while it holds nothing Sluice did not apply.
public struct KubernetesDeployer: Sendable {
    public let client: KubeClient
    public let store: RunStore
    public let deploy: DeploySpec
    /// The inventory this deployer reads and writes: repository, cluster, environment.
    public let scope: RunStore.InventoryScope

    public init(client: KubeClient, store: RunStore, deploy: DeploySpec, repository: String) {
        self.client = client
        self.store = store
        self.deploy = deploy
        scope = RunStore.InventoryScope(repository: repository, cluster: client.config.server, environment: deploy.environment)
    }

    /// Kinds applied first, so what others refer to exists (namespaces and their guards, as in
    /// Helm's order: a ResourceQuota and a LimitRange exist before any pod; config, accounts).
    static let order = ["Namespace", "NetworkPolicy", "ResourceQuota", "LimitRange", "CustomResourceDefinition", "ServiceAccount", "Secret", "ConfigMap", "Service"]

    static func json(_ object: ManifestObject) throws -> [String: Any] { try json(NodeJSON.render(object.node), object.displayName) }

    /// The body sent to the API server; a manifest that does not read back as a JSON object
    /// (it would be a bug in rendering) stops the deploy with its name instead of sending `{}`.
    static func json(_ rendered: String, _ name: String) throws -> [String: Any] {
        guard let object = try JSONSerialization.jsonObject(with: Data(rendered.utf8)) as? [String: Any] else {
            throw KubeError(status: 0, reason: "Invalid", message: "\(name) did not render to a JSON object")
        }
        return object
    }

    static func sorted(_ objects: [ManifestObject]) -> [ManifestObject] {
        objects.sorted { a, b in
            let ia = order.firstIndex(of: a.kind) ?? order.count, ib = order.firstIndex(of: b.kind) ?? order.count
            return ia != ib ? ia < ib : a.fileName < b.fileName
        }
    }

    /// Pruning goes the other way: workloads first, then what they used, namespaces last.
    static func pruneOrder(_ items: [RunStore.InventoryItem]) -> [RunStore.InventoryItem] {
        items.sorted { a, b in
            let ia = order.firstIndex(of: a.kind) ?? order.count, ib = order.firstIndex(of: b.kind) ?? order.count
            return ia != ib ? ia > ib : (a.kind, a.namespace, a.name) < (b.kind, b.namespace, b.name)
        }
    }

    /// One object and what applying it would do.
    struct Planned {
        var object: ManifestObject
        /// The live object as compared (nil: it does not exist).
        var current: String?
        /// The object as the server would have it after the apply.
        var next: String
        /// Its namespace does not exist yet (these manifests create it): checked against the
        /// server's OpenAPI schema instead of a dry run.
        var schemaChecked = false
        /// The body's hash and the live object's resourceVersion, to record after the apply.
        var hash = ""
        var liveResourceVersion: String?
        /// As Sluice left it (see `plan`): neither compared nor shown.
        var asLeft = false
        var changed: Bool { !asLeft && current != next }
    }

    /// What identifies the body Sluice sends for an object (its JSON as rendered, and how: a
    /// forced apply differs).
    func appliedHash(_ rendered: String) -> String {
        ContentHash.hex(SHA256.hash(data: Data(rendered.utf8) + Data(deploy.force ? [1] : [0])))
    }

    static func resourceVersion(_ object: [String: Any]?) -> String? {
        (object?["metadata"] as? [String: Any])?["resourceVersion"] as? String
    }

    /// The live objects of each kind and namespace the manifests use, one paged list per kind and
    /// namespace instead of a read per object; a namespace that does not exist has none.
    struct LiveObjects {
        let client: KubeClient
        var lists: [String: [String: [String: Any]]] = [:]

        mutating func get(_ object: ManifestObject) throws(KubeError) -> [String: Any]? {
            let namespace = object.namespace ?? client.config.namespace
            let key = "\(object.apiVersion)|\(object.kind)|\(namespace)"
            if let list = lists[key] { return list[object.name] }
            var list: [String: [String: Any]] = [:]
            do {
                list = try client.listAll(apiVersion: object.apiVersion, kind: object.kind, namespace: namespace)
            } catch {
                guard error.status == 404 else { throw error }
            }
            lists[key] = list
            return list[object.name]
        }
    }

    /// Compares every object with the live one through a server-side dry run. An object in a
    /// namespace these manifests create, which does not exist yet, cannot be dry-run (the server
    /// answers 404): it is checked against the server's published schema instead.
    /// - Parameter applying: for an apply, an object that does not exist yet is new whatever a dry
    ///   run would say: it is not dry-run (one request less per new object).
    func plan(_ objects: [ManifestObject], applying: Bool = false) throws -> [Planned] {
        let created = Set(objects.filter { $0.kind == "Namespace" }.map(\.name))
        var missing: [String: Bool] = [:]
        var validators: [String: SchemaValidator] = [:]
        var planned: [Planned] = []
        var live = LiveObjects(client: client)
        let applied = try store.applied(scope)
        var dryRuns: [(Int, SendableJSON)] = []
        for object in Self.sorted(objects) {
            let rendered = NodeJSON.render(object.node)
            let hash = appliedHash(rendered)
            let namespace = object.namespace ?? client.config.namespace
            if object.kind != "Namespace", created.contains(namespace) {
                if missing[namespace] == nil {
                    missing[namespace] = try client.get(apiVersion: "v1", kind: "Namespace", namespace: nil, name: namespace) == nil
                }
                if missing[namespace] == true {
                    let body = try Self.json(rendered, object.displayName)
                    if validators[object.apiVersion] == nil { validators[object.apiVersion] = SchemaValidator(document: try client.openAPI(apiVersion: object.apiVersion)) }
                    if let problems = validators[object.apiVersion]!.problems(body, apiVersion: object.apiVersion, kind: object.kind), !problems.isEmpty {
                        throw KubeError(status: 422, reason: "Invalid", message: "\(object.displayName) is invalid against the server's OpenAPI schema: "
                                        + problems.joined(separator: "; "))
                    }
                    planned.append(Planned(object: object, current: nil, next: Self.comparable(body), schemaChecked: true))
                    continue
                }
            }
            let current = try live.get(object)
            let version = Self.resourceVersion(current)
            if applying, current == nil {  // new: applied whatever a comparison would say
                planned.append(Planned(object: object, current: nil, next: rendered, hash: hash))
                continue
            }
            // Sluice sent this very body last time and nobody has written the object since:
            // it is as Sluice left it, no dry run needed.
            if current != nil, let version, let last = applied[inventoryItem(object)], last.hash == hash, last.resourceVersion == version {
                planned.append(Planned(object: object, current: nil, next: "", hash: hash, liveResourceVersion: version, asLeft: true))
                continue
            }
            // Dry-run below, several at once; `next` is filled in then.
            dryRuns.append((planned.count, SendableJSON(try Self.json(rendered, object.displayName))))
            planned.append(Planned(object: object, current: current.map(Self.comparable), next: "", hash: hash, liveResourceVersion: version))
        }
        for ((index, _), answer) in zip(dryRuns, try applyAtOnce(dryRuns.map(\.1), dryRun: true)) {
            planned[index].next = Self.comparable(answer)
        }
        return planned
    }

    /// What applying would change, object by object; objects checked against the schema
    /// instead of a dry run are said so on a `#` line.
    public func diff(_ objects: [ManifestObject]) throws -> [String] {
        let planned = try plan(objects).filter { !$0.asLeft }
        var current = planned.compactMap { p in p.current.map { (p.object.fileName, $0) } }
        let next = planned.map { ($0.object.fileName, $0.next) }
        for item in try prunable(keeping: objects) {
            current.append(("\(item.namespace.isEmpty ? "_cluster" : item.namespace)/\(item.kind.lowercased())-\(item.name).yaml", "(live)"))
        }
        return ManifestDiff.lines(current: current, next: next, parse: ManifestTree.parse) + Self.schemaNotes(planned)
    }

    static func schemaNotes(_ planned: [Planned]) -> [String] {
        let checked = planned.filter(\.schemaChecked)
        guard !checked.isEmpty else { return [] }
        let namespaces = Set(checked.map { $0.object.namespace ?? "" }).sorted().joined(separator: ", ")
        return ["# namespace \(namespaces) does not exist yet (these manifests create it): \(checked.count) object\(checked.count == 1 ? "" : "s") in it "
                + "checked against the server's OpenAPI schema instead of a server-side dry run"]
    }

    /// Server-managed fields removed, as JSON with sorted keys: equal text is an equal object,
    /// and `ManifestTree` reads it back for the diff by field path.
    static func comparable(_ object: [String: Any]) -> String {
        var o = object
        o.removeValue(forKey: "status")
        if var meta = o["metadata"] as? [String: Any] {
            for k in ["managedFields", "resourceVersion", "uid", "creationTimestamp", "generation"] { meta.removeValue(forKey: k) }
            o["metadata"] = meta
        }
        do {
            return String(decoding: try JSONSerialization.data(withJSONObject: o, options: [.sortedKeys]), as: UTF8.self)
        } catch {
            return "\(o)"  // not JSON-encodable cannot come from the API server; compared as text
        }
    }

    /// Applies the objects that change (an unchanged one gets no write) and records them in
    /// the inventory together with the stale ones, which `prune` deletes once the new ones are healthy.
    public func apply(_ objects: [ManifestObject], progress: (String) -> Void = { _ in }) throws -> (changed: [String], unchanged: Int, notes: [String]) {
        let planned = try plan(objects, applying: true)
        let stale = try prunable(keeping: objects)
        try store.setInventory(objects.map(inventoryItem) + stale, scope)
        var changed: [String] = []
        var applied: [RunStore.InventoryItem: RunStore.Applied] = [:]
        defer {
            // What was applied so far is recorded even when a later object fails.
            do { try store.recordApplied(applied, scope) } catch { progress("could not record what was applied: \(error)") }
        }
        for p in planned where !p.changed {
            if let version = p.liveResourceVersion { applied[inventoryItem(p.object)] = .init(hash: p.hash, resourceVersion: version) }
        }
        // Kind by kind in dependency order (namespaces, CRDs, accounts, configuration, services,
        // then workloads); within a kind, several applies at once.
        for wave in Self.waves(planned.filter(\.changed)) {
            let answers = try applyAtOnce(wave.map { SendableJSON(try Self.json($0.object)) }, dryRun: false)
            for (p, answer) in zip(wave, answers) {
                if let version = Self.resourceVersion(answer) { applied[inventoryItem(p.object)] = .init(hash: p.hash, resourceVersion: version) }
                changed.append(p.object.displayName)
                progress("applied \(p.object.displayName)")
            }
        }
        return (changed, planned.count - changed.count, Self.schemaNotes(planned))
    }

    /// Applies in flight at once (Flux's kustomize-controller also applies four at a time).
    static let parallelism = 4

    /// Consecutive runs of objects of the same rank in `order` (the input is in `sorted` order).
    static func waves(_ planned: [Planned]) -> [[Planned]] {
        var waves: [[Planned]] = []
        var rank: Int?
        for p in planned {
            let r = order.firstIndex(of: p.object.kind) ?? order.count
            if r != rank || waves.isEmpty { waves.append([]) }
            rank = r
            waves[waves.count - 1].append(p)
        }
        return waves
    }

    /// Applies `bodies` (or dry-runs them) on up to `parallelism` connections; the answers in
    /// the same order. After a failure no new apply starts; the first failure (in order) is thrown.
    func applyAtOnce(_ bodies: [SendableJSON], dryRun: Bool) throws -> [[String: Any]] {
        let results = Mutex<[Int: Result<SendableJSON, KubeError>]>([:])
        let next = Mutex(0)
        let group = DispatchGroup()
        // Threads of their own: the workers block on the network, which the dispatch pool does
        // not see (it would run them a core at a time).
        for _ in 0..<min(Self.parallelism, bodies.count) {
            group.enter()
            BlockingThread.start {
                defer { group.leave() }
                while true {
                    let i: Int? = next.withLock { n in
                        guard n < bodies.count, !results.withLock({ $0.values.contains { if case .failure = $0 { true } else { false } } }) else { return nil }
                        n += 1
                        return n - 1
                    }
                    guard let i else { return }
                    let result: Result<SendableJSON, KubeError>
                    do throws(KubeError) {
                        result = .success(SendableJSON(try client.apply(bodies[i].value, dryRun: dryRun, force: deploy.force)))
                    } catch {
                        result = .failure(error)
                    }
                    results.withLock { $0[i] = result }
                }
            }
        }
        group.wait()
        let done = results.withLock { $0 }
        return try (0..<bodies.count).compactMap { i -> [String: Any]? in
            switch done[i] {
            case .success(let json)?: return json.value
            case .failure(let error)?: throw error
            case nil: return nil  // not started after an earlier failure; that failure is thrown first
            }
        }
    }

    /// Deletes what this repository's environment applied before and no longer renders, in
    /// reverse dependency order. Returns what was deleted and what was left in place, and why.
    public func prune(keeping objects: [ManifestObject], progress: (String) -> Void = { _ in }) throws -> (pruned: [String], kept: [String]) {
        let current = Set(objects.map(inventoryItem))
        let previous = try store.inventory(scope)
        var remaining = Array(current)
        var pruned: [String] = [], kept: [String] = []
        for item in Self.pruneOrder(previous.filter { !current.contains($0) }) {
            let shown = "\(item.kind) \(item.namespace.isEmpty ? "" : item.namespace + "/")\(item.name)"
            if item.kind == "Namespace" {
                if let why = try namespaceKept(item.name, ours: Set(previous)) {
                    kept.append("\(shown): \(why)")
                    progress("left \(shown) in place: \(why)")
                    if why.hasPrefix("it holds") { remaining.append(item) }  // tried again next time
                    continue
                }
            }
            // Only what still carries Sluice's labels for this environment is deleted.
            guard let live = try client.get(apiVersion: item.apiVersion, kind: item.kind, namespace: item.namespace.isEmpty ? nil : item.namespace, name: item.name),
                  let labels = (live["metadata"] as? [String: Any])?["labels"] as? [String: String],
                  labels[ManifestObject.managedByLabel] == "sluice", labels[ManifestObject.environmentLabel] == deploy.environment else { continue }
            try client.delete(apiVersion: item.apiVersion, kind: item.kind, namespace: item.namespace.isEmpty ? nil : item.namespace, name: item.name)
            pruned.append(shown)
            progress("pruned \(shown)")
        }
        try store.setInventory(remaining, scope)
        return (pruned, kept)
    }

    /// Why a Namespace no longer rendered is not deleted (nil: it may be).
    func namespaceKept(_ name: String, ours: Set<RunStore.InventoryItem>) throws -> String? {
        if name == deploy.namespace { return "it is deploy.namespace" }
        if !deploy.pruneNamespaces { return "Sluice deletes namespaces only with deploy.prune: { namespaces: true }" }
        // Listing fails closed: a namespace whose contents cannot all be read is kept.
        let resources: [KubeClient.Resource]
        do { resources = try client.namespacedResources() } catch {
            return "it holds objects that could not all be listed (\(error))"
        }
        for r in resources {
            let objects: [[String: Any]]
            do { objects = try client.list(r, namespace: name, limit: 50) } catch {
                return "it holds objects that could not all be listed (\(r.kind): \(error))"
            }
            for object in objects {
                let meta = object["metadata"] as? [String: Any] ?? [:]
                let objectName = meta["name"] as? String ?? ""
                let item = RunStore.InventoryItem(apiVersion: r.groupVersion, kind: r.kind, namespace: name, name: objectName)
                if ours.contains(item) || Self.madeByKubernetes(kind: r.kind, name: objectName, meta: meta, ours: ours) { continue }
                return "it holds \(r.kind) \(objectName), which Sluice did not apply"
            }
        }
        return nil
    }

    /// What Kubernetes itself puts in a namespace or derives from Sluice's objects: owned
    /// objects (ReplicaSets, Pods, EndpointSlices), events, the default ServiceAccount, the root
    /// CA ConfigMap, and a Service's Endpoints.
    static func madeByKubernetes(kind: String, name: String, meta: [String: Any], ours: Set<RunStore.InventoryItem>) -> Bool {
        if let owners = meta["ownerReferences"] as? [Any], !owners.isEmpty { return true }
        switch kind {
        case "Event": return true
        case "ServiceAccount": return name == "default"
        case "ConfigMap": return name == "kube-root-ca.crt"
        case "Endpoints": return ours.contains { $0.kind == "Service" && $0.name == name }
        default: return false
        }
    }

    func prunable(keeping objects: [ManifestObject]) throws -> [RunStore.InventoryItem] {
        let keep = Set(objects.map(inventoryItem))
        return try store.inventory(scope).filter { !keep.contains($0) }
    }

    /// Waits until every workload is healthy, or one fails, or `timeout` passes.
    public func waitHealthy(_ objects: [ManifestObject], timeout: Double, progress: (String) -> Void = { _ in }) throws -> (healthy: Bool, message: String?) {
        let workloads = objects.filter { RolloutStatus.workloadKinds.contains($0.kind) }
        let deadline = ContinuousClock.now + .milliseconds(Int(timeout * 1000))
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
            if ContinuousClock.now > deadline { return (false, "not healthy after \(Int(timeout))s: " + waiting.joined(separator: "; ")) }
            usleep(250_000)
        }
    }
}

func inventoryItem(_ o: ManifestObject) -> RunStore.InventoryItem {
    RunStore.InventoryItem(apiVersion: o.apiVersion, kind: o.kind, namespace: o.namespace ?? "", name: o.name)
}

/// A JSON object from `JSONSerialization` (dictionaries, arrays, strings and numbers that are
/// never mutated after parsing), handed between the apply workers.
struct SendableJSON: @unchecked Sendable {
    let value: [String: Any]
    init(_ value: [String: Any]) { self.value = value }
}

