import FoundationEssentials
import SluiceCore

extension KubernetesStage {
    /// The token a Job's pod was given: the run's Secret key its `SLUICE_POD_TOKEN` names. Read
    /// when re-attaching, because the replica that started the Job may have made the token with
    /// another key (each replica keeps its own state folder). nil when the Job names none, or
    /// its Secret or key is gone (the token is then made here, as for a Job of this process).
    /// - Parameter secret: reads a Secret of the Job's namespace by name (nil when there is none).
    static func podToken(of job: [String: Any], secret: (String) throws -> [String: Any]?) throws -> String? {
        let template = ((job["spec"] as? [String: Any])?["template"] as? [String: Any])?["spec"] as? [String: Any]
        let containers = (template?["initContainers"] as? [[String: Any]] ?? []) + (template?["containers"] as? [[String: Any]] ?? [])
        for variable in containers.flatMap({ $0["env"] as? [[String: Any]] ?? [] }) where variable["name"] as? String == StageJob.tokenVariable {
            guard let reference = (variable["valueFrom"] as? [String: Any])?["secretKeyRef"] as? [String: Any],
                  let name = reference["name"] as? String, let key = reference["key"] as? String else { continue }
            guard let encoded = (try secret(name)?["data"] as? [String: Any])?[key] as? String,
                  let token = Data(base64Encoded: encoded) else { return nil }
            return String(decoding: token, as: UTF8.self)
        }
        return nil
    }
}
