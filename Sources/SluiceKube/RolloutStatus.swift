/// Whether a workload is healthy, by the rules `kubectl rollout status` uses.
public enum RolloutStatus: Sendable, Hashable {
    case ready
    case waiting(String)
    case failed(String)

    public static func of(_ object: [String: Any]) -> RolloutStatus {
        let kind = object["kind"] as? String ?? ""
        let meta = object["metadata"] as? [String: Any] ?? [:]
        let name = "\(kind.lowercased()) \"\(meta["name"] as? String ?? "")\""
        let spec = object["spec"] as? [String: Any] ?? [:]
        let status = object["status"] as? [String: Any] ?? [:]
        func int(_ d: [String: Any], _ k: String) -> Int { (d[k] as? Int) ?? Int((d[k] as? Double) ?? 0) }
        let generation = int(meta, "generation"), observed = int(status, "observedGeneration")
        let conditions = status["conditions"] as? [[String: Any]] ?? []
        switch kind {
        case "Deployment":
            guard observed >= generation, generation > 0 else { return .waiting("waiting for \(name) spec update to be observed") }
            if conditions.contains(where: { $0["type"] as? String == "Progressing" && $0["reason"] as? String == "ProgressDeadlineExceeded" }) {
                return .failed("\(name) exceeded its progress deadline")
            }
            let replicas = spec["replicas"] == nil ? 1 : int(spec, "replicas")
            let updated = int(status, "updatedReplicas"), total = int(status, "replicas"), available = int(status, "availableReplicas")
            if updated < replicas { return .waiting("\(name): \(updated) of \(replicas) new replicas updated") }
            if total > updated { return .waiting("\(name): \(total - updated) old replicas pending termination") }
            if available < updated { return .waiting("\(name): \(available) of \(updated) updated replicas available") }
            return .ready
        case "StatefulSet":
            guard observed >= generation, generation > 0 else { return .waiting("waiting for \(name) spec update to be observed") }
            let replicas = spec["replicas"] == nil ? 1 : int(spec, "replicas")
            if int(status, "readyReplicas") < replicas { return .waiting("\(name): \(int(status, "readyReplicas")) of \(replicas) pods ready") }
            if let update = status["updateRevision"] as? String, update != status["currentRevision"] as? String {
                return .waiting("\(name): waiting for the partitioned roll out to finish")
            }
            return .ready
        case "DaemonSet":
            guard observed >= generation, generation > 0 else { return .waiting("waiting for \(name) spec update to be observed") }
            let desired = int(status, "desiredNumberScheduled")
            if int(status, "updatedNumberScheduled") < desired { return .waiting("\(name): \(int(status, "updatedNumberScheduled")) of \(desired) updated pods scheduled") }
            if int(status, "numberAvailable") < desired { return .waiting("\(name): \(int(status, "numberAvailable")) of \(desired) updated pods available") }
            return .ready
        case "Job":
            if conditions.contains(where: { $0["type"] as? String == "Failed" && $0["status"] as? String == "True" }) { return .failed("\(name) failed") }
            if conditions.contains(where: { $0["type"] as? String == "Complete" && $0["status"] as? String == "True" }) { return .ready }
            return .waiting("\(name): waiting for completion")
        default:
            return .ready
        }
    }

    public static let workloadKinds: Set<String> = ["Deployment", "StatefulSet", "DaemonSet", "Job"]
}
