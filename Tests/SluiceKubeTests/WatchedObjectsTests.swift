import Foundation
import Testing
import SluiceKube
import SluiceTestSupport

/// A list, then a watch from its resourceVersion (what the Kubernetes runner waits on for a
/// Job and its pod), against the API emulator whose watch the real kubectl reads
/// (`KubeEmulatorWatchTests`).
@Suite struct WatchedObjectsTests {
    func configMap(_ name: String, _ value: String, labels: [String: String] = ["app": "w"]) -> [String: Any] {
        ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": name, "namespace": "ml", "labels": labels], "data": ["v": value]]
    }

    /// Waits (at most 20 s) until `watched` holds what `expected` says, counting on `changed` to say when to look.
    func waitFor(_ watched: WatchedObjects, _ changes: Changes, _ what: String, _ expected: (WatchedObjects.Snapshot) -> Bool) throws {
        let deadline = Date().addingTimeInterval(20)
        while true {
            // The count before looking: a change between the look and the wait is not missed.
            let seen = changes.count
            if expected(watched.snapshot) { return }
            guard changes.wait(after: seen, until: deadline) else {
                Issue.record("timed out waiting for \(what); holds \(watched.snapshot.objects.keys.sorted())")
                return
            }
        }
    }

    @Test(.enabled(if: RequiredTools.run(whenPresent: ProcessRunner.has("python3")), "python3 is not installed: SKIPPED"))
    func selectedObjectsFollowCreationChangeAndDeletion() throws {
        let k = try KubeEmulator(namespace: "ml")
        let client = KubeClient(config: KubeConfig(server: k.url, token: "test-token", namespace: "ml"))
        _ = try client.apply(configMap("before", "1"))
        _ = try client.apply(configMap("other", "1", labels: ["app": "not-w"]))
        let changes = Changes()
        let watched = WatchedObjects(client: client, apiVersion: "v1", kind: "ConfigMap", namespace: "ml",
                                     labelSelector: "app=w", changed: { _ in changes.signal() })
        defer { watched.stop() }
        try waitFor(watched, changes, "the first list") { $0.synced && $0.objects.keys.sorted() == ["before"] }

        _ = try client.apply(configMap("after", "1"))
        try waitFor(watched, changes, "the created object") { $0.objects["after"] != nil }
        _ = try client.apply(configMap("after", "2"))
        try waitFor(watched, changes, "the change") { ($0.objects["after"]?["data"] as? [String: Any])?["v"] as? String == "2" }
        try client.delete(apiVersion: "v1", kind: "ConfigMap", namespace: "ml", name: "before")
        try waitFor(watched, changes, "the deletion") { $0.objects.keys.sorted() == ["after"] }
        #expect(watched.snapshot.problem == nil)
        #expect(watched.snapshot.objects["other"] == nil, "the selector keeps other objects out")
    }

    @Test(.enabled(if: RequiredTools.run(whenPresent: ProcessRunner.has("python3")), "python3 is not installed: SKIPPED"))
    func aFieldSelectorFollowsOneObjectByName() throws {
        let k = try KubeEmulator(namespace: "ml")
        let client = KubeClient(config: KubeConfig(server: k.url, token: "test-token", namespace: "ml"))
        let changes = Changes()
        let watched = WatchedObjects(client: client, apiVersion: "v1", kind: "ConfigMap", namespace: "ml",
                                     fieldSelector: "metadata.name=one", changed: { _ in changes.signal() })
        defer { watched.stop() }
        try waitFor(watched, changes, "the first list") { $0.synced && $0.objects.isEmpty }
        _ = try client.apply(configMap("two", "1"))
        _ = try client.apply(configMap("one", "1"))
        try waitFor(watched, changes, "the named object") { $0.objects.keys.sorted() == ["one"] }
    }

    /// A watch resumed from a version the server no longer keeps (etcd compacts every few
    /// minutes) gets 410 Expired; the objects are listed again, without a problem to report.
    @Test(.enabled(if: RequiredTools.run(whenPresent: ProcessRunner.has("python3")), "python3 is not installed: SKIPPED"))
    func aVersionTheServerNoLongerKeepsIsListedAgain() throws {
        let k = try KubeEmulator(namespace: "ml")
        let client = KubeClient(config: KubeConfig(server: k.url, token: "test-token", namespace: "ml"))
        _ = try client.apply(configMap("before", "1"))
        let changes = Changes()
        let watched = WatchedObjects(client: client, apiVersion: "v1", kind: "ConfigMap", namespace: "ml",
                                     labelSelector: "app=w", changed: { _ in changes.signal() })
        defer { watched.stop() }
        try waitFor(watched, changes, "the first list") { $0.synced && $0.objects.keys.sorted() == ["before"] }
        func lists() throws -> Int { try (k.stats()["access"] as? [String: Any])?["list configmaps  ml"] as? Int ?? 0 }
        #expect(try lists() == 1)

        // Writes the watch does not select move the server past the version it last saw.
        for i in 1...3 { _ = try client.apply(configMap("other", "\(i)", labels: ["app": "not-w"])) }
        try k.hook("compact")
        // A new list signals a change when it is read.
        try waitFor(watched, changes, "the objects to be listed again") { _ in (try? lists()) == 2 }
        _ = try client.apply(configMap("after", "1"))
        try waitFor(watched, changes, "a change after the new list") { $0.objects.keys.sorted() == ["after", "before"] }
        #expect(watched.snapshot.problem == nil, "410 is the server's way to say 'list again', not a problem")
    }

    @Test func anUnreachableServerIsAProblemNotACrash() throws {
        let port = try FreePort.next()
        let client = KubeClient(config: KubeConfig(server: "http://127.0.0.1:\(port)", namespace: "ml"))
        let changes = Changes()
        let watched = WatchedObjects(client: client, apiVersion: "v1", kind: "ConfigMap", namespace: "ml", changed: { _ in changes.signal() })
        defer { watched.stop() }
        try waitFor(watched, changes, "the problem") { $0.problem != nil }
        #expect(watched.snapshot.synced == false)
        #expect(watched.snapshot.problem?.contains("127.0.0.1:\(port)") == true, "\(watched.snapshot.problem ?? "")")
    }
}

/// Counts `changed` calls so a test can wait for the next one.
final class Changes: @unchecked Sendable {
    // @unchecked: `calls` is read and written only under `condition`'s lock.
    private let condition = NSCondition()
    private var calls = 0

    var count: Int {
        condition.lock()
        defer { condition.unlock() }
        return calls
    }

    func signal() {
        condition.lock()
        calls += 1
        condition.broadcast()
        condition.unlock()
    }

    /// Waits until more than `seen` changes were signalled; false at the deadline.
    func wait(after seen: Int, until deadline: Date) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while calls == seen {
            if !condition.wait(until: deadline) { return false }
        }
        return true
    }
}
