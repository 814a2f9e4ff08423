import SluiceKube
import Synchronization

/// The Jobs and pods of one run in one namespace (selected by the run's labels), watched once
/// for all of its stages: two streams per run however many of its stages run at once, as an
/// informer shares one watch among a controller's workers. A change wakes only the stage whose
/// Job it concerns (a pod names its Job in its `job-name` label); a new list wakes them all.
final class StageWatches: Sendable {
    private let jobs: WatchedObjects
    private let pods: WatchedObjects
    private let waiting: Waiting

    /// The stages waiting on this run's objects, by Job name.
    private final class Waiting: Sendable {
        let byJob = Mutex<[String: Wakeup]>([:])

        /// Wakes the stage of `job`, or every stage for nil.
        func wake(_ job: String?) {
            let targets = byJob.withLock { waiting in job.map { waiting[$0].map { [$0] } ?? [] } ?? Array(waiting.values) }
            for target in targets { target.set() }
        }
    }

    /// What a stage sees of its Job.
    struct Look {
        /// False until both lists have been read.
        var synced: Bool
        var job: [String: Any]?
        var pods: [[String: Any]]
        var problem: String?
    }

    init(client: KubeClient, namespace: String, selector: String) {
        let waiting = Waiting()
        self.waiting = waiting
        jobs = WatchedObjects(client: client, apiVersion: "batch/v1", kind: "Job", namespace: namespace, labelSelector: selector,
                              keep: Self.progressFields, changed: { object in waiting.wake(object.map { WatchedObjects.name($0) ?? "" }) })
        pods = WatchedObjects(client: client, apiVersion: "v1", kind: "Pod", namespace: namespace, labelSelector: selector,
                              keep: Self.progressFields, changed: { object in waiting.wake(object.map { Self.job(ofPod: $0) ?? "" }) })
    }

    func wait(for job: String, _ wake: Wakeup) { waiting.byJob.withLock { $0[job] = wake } }
    func stopWaiting(for job: String) { _ = waiting.byJob.withLock { $0.removeValue(forKey: job) } }

    func look(at job: String) -> Look {
        let (j, p) = (jobs.snapshot, pods.snapshot)
        return Look(synced: j.synced && p.synced, job: j.objects[job], pods: p.objects.values.filter { Self.job(ofPod: $0) == job },
                    problem: j.problem ?? p.problem)
    }

    func stop() {
        jobs.stop()
        pods.stop()
    }

    /// What `JobProgress` reads of a Job or pod: its name, labels, creation time and status (not
    /// the spec, which the stage wrote, nor the managed fields): fifty stages' worth stays small.
    @Sendable static func progressFields(_ object: [String: Any]) -> [String: Any] {
        let metadata = object["metadata"] as? [String: Any] ?? [:]
        var kept: [String: Any] = ["metadata": metadata.filter { ["name", "labels", "creationTimestamp"].contains($0.key) }]
        if let status = object["status"] { kept["status"] = status }
        return kept
    }

    static func job(ofPod pod: [String: Any]) -> String? {
        ((pod["metadata"] as? [String: Any])?["labels"] as? [String: Any])?["job-name"] as? String
    }

    /// Every Job and pod Sluice runs (for a Job that lacks a run's labels).
    static let everyStage = "app.kubernetes.io/managed-by=sluice"

    /// The label selector of a run's Jobs and pods, from the labels its Jobs carry.
    static func selector(labels: [String: String]) -> String? {
        guard let repository = labels["sluice.dev/repository"], let run = labels["sluice.dev/run"] else { return nil }
        return "sluice.dev/repository=\(repository),sluice.dev/run=\(run)"
    }
}

/// The watches of the runs whose stages are running now, shared by their stages and stopped
/// when the last of them ends.
final class StageWatchRegistry: Sendable {
    private struct Entry {
        var watches: StageWatches
        var users: Int
    }
    private let entries = Mutex<[String: Entry]>([:])

    /// The watches of the run `selector` names in `namespace` (started on first use); call
    /// `release` with the same arguments when done.
    func acquire(client: KubeClient, namespace: String, selector: String) -> StageWatches {
        let key = Self.key(client, namespace, selector)
        return entries.withLock { entries in
            if let known = entries[key] {
                entries[key]?.users += 1
                return known.watches
            }
            let watches = StageWatches(client: client, namespace: namespace, selector: selector)
            entries[key] = Entry(watches: watches, users: 1)
            return watches
        }
    }

    private static func key(_ client: KubeClient, _ namespace: String, _ selector: String) -> String {
        "\(client.config.server) \(namespace) \(selector)"
    }

    func release(client: KubeClient, namespace: String, selector: String) {
        let key = Self.key(client, namespace, selector)
        let unused = entries.withLock { entries -> StageWatches? in
            guard var entry = entries[key] else { return nil }
            entry.users -= 1
            if entry.users > 0 {
                entries[key] = entry
                return nil
            }
            entries[key] = nil
            return entry.watches
        }
        unused?.stop()
    }
}
