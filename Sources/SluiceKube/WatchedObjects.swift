import Foundation
import Synchronization

/// The objects of one kind that a selector matches, kept current by a watch on a thread of its
/// own: a list, then a watch from the list's resourceVersion; when the server ends the stream,
/// a new watch from the last version seen (bookmarks keep it fresh); when that version is gone
/// (410), a new list. `changed` is called with the object after every change, and with nil after
/// every list and every failure (anything may have changed), so a caller waiting on these objects
/// wakes when they move instead of asking the server on a timer.
public final class WatchedObjects: Sendable {
    public struct Snapshot: @unchecked Sendable {
        // @unchecked: decoded JSON, read only.
        /// False until the first list has been read (then `objects` is what the server holds).
        public var synced = false
        public var objects: [String: [String: Any]] = [:]
        /// The last error while listing or watching, until the next list succeeds.
        public var problem: String?
    }

    /// What the watching thread and the callers share (the thread holds it, not the object, so
    /// the object can go away while the thread ends its last request).
    private final class Shared: Sendable {
        let state = Mutex(Snapshot())
        let finished = Atomic<Bool>(false)
    }
    private let shared = Shared()

    /// Starts watching at once. `changed` runs on the watching thread: keep it short. `keep`
    /// chooses what of each object is held (by default all of it but `metadata.managedFields`).
    public init(client: KubeClient, apiVersion: String, kind: String, namespace: String,
                labelSelector: String? = nil, fieldSelector: String? = nil,
                keep: @escaping @Sendable ([String: Any]) -> [String: Any] = WatchedObjects.withoutManagedFields,
                changed: @escaping @Sendable ([String: Any]?) -> Void) {
        let thread = Thread { [shared] in
            var version: String?
            var failures = 0
            while !shared.finished.load(ordering: .relaxed) {
                var listed = false
                do throws(KubeError) {
                    if version == nil {
                        listed = true
                        let list = try client.list(apiVersion: apiVersion, kind: kind, namespace: namespace,
                                                   labelSelector: labelSelector, fieldSelector: fieldSelector)
                        var objects: [String: [String: Any]] = [:]
                        for item in list.items { if let name = Self.name(item) { objects[name] = keep(item) } }
                        shared.state.withLock { $0 = Snapshot(synced: true, objects: objects) }
                        version = list.resourceVersion
                        changed(nil)
                    }
                    let began = ContinuousClock.now
                    try client.watch(apiVersion: apiVersion, kind: kind, namespace: namespace, labelSelector: labelSelector,
                                     fieldSelector: fieldSelector, resourceVersion: version ?? "",
                                     stopped: { shared.finished.load(ordering: .relaxed) }) { event in
                        if let v = event.resourceVersion { version = v }
                        guard event.type != "BOOKMARK", let name = Self.name(event.object) else { return }
                        let kept = event.type == "DELETED" ? nil : keep(event.object)
                        shared.state.withLock { $0.objects[name] = kept }
                        changed(event.object)
                    }
                    failures = 0
                    // A stream that a proxy or server ends at once must not become a busy loop.
                    if began.duration(to: .now) < .seconds(1) { Thread.sleep(forTimeInterval: 0.5) }
                } catch {
                    // 410 on resuming: the version is older than the server keeps; list again at once.
                    // Anything else (or 410 right after a list): list again too, after a pause that
                    // grows, since events may have been missed.
                    version = nil
                    if error.status == 410, !listed { continue }
                    failures += 1
                    shared.state.withLock { $0.problem = error.message }
                    changed(nil)
                    Thread.sleep(forTimeInterval: min(5, 0.2 * Double(failures)))
                }
            }
        }
        thread.name = "sluice-watch-\(kind.lowercased())"
        thread.start()
    }

    public var snapshot: Snapshot { shared.state.withLock { $0 } }

    /// Ends the watch (within about a second; the thread then exits on its own).
    public func stop() { shared.finished.store(true, ordering: .relaxed) }

    deinit { stop() }

    /// The object without `metadata.managedFields` (often the largest part, and of no use to a watcher).
    @Sendable public static func withoutManagedFields(_ object: [String: Any]) -> [String: Any] {
        guard var metadata = object["metadata"] as? [String: Any], metadata["managedFields"] != nil else { return object }
        var kept = object
        metadata["managedFields"] = nil
        kept["metadata"] = metadata
        return kept
    }

    public static func name(_ object: [String: Any]) -> String? { (object["metadata"] as? [String: Any])?["name"] as? String }
}
