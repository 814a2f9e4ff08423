/// Where a stage's Job and its pod stand, read from their API objects: what the Kubernetes
/// runner waits on and what it tells the user when a pod does not run.
public struct JobProgress: Sendable, Equatable {
    public enum Container: Sendable, Equatable {
        case waiting(reason: String?, message: String?)
        case running
        case terminated(exitCode: Int32, reason: String?, message: String?)
    }

    public struct Finished: Sendable, Equatable {
        public var succeeded: Bool
        public var reason: String?
        public var message: String?
    }
    public struct InitFailure: Sendable, Equatable {
        public var container: String
        public var exitCode: Int32
    }

    /// The Job's final condition (Complete or Failed), if it has one.
    public var finished: Finished?
    public var pod: String?
    /// Why the pod has not started the stage yet, in words (nil: it is not waiting on anything named).
    public var waiting: String?
    public var stage: Container = .waiting(reason: nil, message: nil)
    /// An init container (the workspace) that ended badly.
    public var initFailed: InitFailure?
    /// The pod was evicted or otherwise failed as a whole (the kubelet's reason and message).
    public var podFailure: String?
    /// The image the stage container runs, as the kubelet resolved it (`imageID`: `repo@sha256:…`).
    public var stageImage: String?

    public init() {}

    public static func read(job: [String: Any]?, pods: [[String: Any]], stageContainer: String) -> JobProgress {
        var p = JobProgress()
        let jobStatus = job?["status"] as? [String: Any] ?? [:]
        for c in jobStatus["conditions"] as? [[String: Any]] ?? [] where c["status"] as? String == "True" {
            let type = c["type"] as? String
            if type == "Complete" || type == "Failed" {
                p.finished = Finished(succeeded: type == "Complete", reason: c["reason"] as? String, message: c["message"] as? String)
            }
        }
        // The newest pod (backoffLimit 0 makes one; a deleted one may linger while terminating).
        guard let pod = pods.max(by: { created($0) < created($1) }) else { return p }
        p.pod = (pod["metadata"] as? [String: Any])?["name"] as? String
        let status = pod["status"] as? [String: Any] ?? [:]
        if let reason = status["reason"] as? String, status["phase"] as? String == "Failed" {
            p.podFailure = "\(reason): \(status["message"] as? String ?? "")"
        }
        for c in status["conditions"] as? [[String: Any]] ?? [] where c["type"] as? String == "PodScheduled" && c["status"] as? String == "False" {
            p.waiting = "the pod cannot be scheduled (\(c["reason"] as? String ?? "Unschedulable")): \(c["message"] as? String ?? "no node fits it")"
        }
        for s in status["initContainerStatuses"] as? [[String: Any]] ?? [] {
            switch container(s) {
            case .terminated(let code, _, _) where code != 0:
                p.initFailed = InitFailure(container: s["name"] as? String ?? "init", exitCode: code)
            case .waiting(let reason?, let message) where reason != "PodInitializing":
                p.waiting = words(reason: reason, message: message, image: s["image"] as? String)
            default: break
            }
        }
        for s in status["containerStatuses"] as? [[String: Any]] ?? [] {
            let state = container(s)
            if s["name"] as? String == stageContainer {
                p.stage = state
                if let id = s["imageID"] as? String, !id.isEmpty { p.stageImage = id }
            }
            if case .waiting(let reason?, let message) = state, reason != "PodInitializing", reason != "ContainerCreating" {
                p.waiting = words(reason: reason, message: message, image: s["image"] as? String)
            }
        }
        return p
    }

    static func created(_ o: [String: Any]) -> String { (o["metadata"] as? [String: Any])?["creationTimestamp"] as? String ?? "" }

    static func container(_ s: [String: Any]) -> Container {
        let state = s["state"] as? [String: Any] ?? [:]
        if let t = state["terminated"] as? [String: Any] {
            let code = (t["exitCode"] as? Int).map { Int32(clamping: $0) } ?? 1
            return .terminated(exitCode: code, reason: t["reason"] as? String, message: t["message"] as? String)
        }
        if state["running"] != nil { return .running }
        let w = state["waiting"] as? [String: Any]
        return .waiting(reason: w?["reason"] as? String, message: w?["message"] as? String)
    }

    /// A waiting reason in words (image pulls and configuration errors name what to fix).
    static func words(reason: String, message: String?, image: String?) -> String {
        switch reason {
        case "ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull":
            return "image '\(image ?? "?")' cannot be pulled (\(reason)): \(message ?? "")"
        case "CreateContainerConfigError", "CreateContainerError":
            return "the container cannot be created (\(reason)): \(message ?? "")"
        default:
            return "\(reason)\(message.map { ": \($0)" } ?? "")"
        }
    }

}
