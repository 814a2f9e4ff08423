import FoundationEssentials
import Crypto
import SluiceCore
import SluiceKube
public import SluiceServer
import SluiceRunner
import Synchronization

/// What the Kubernetes runner needs besides a stage: how pods reach Sluice, the image of
/// Sluice's own containers, and the service account merge-request stages get.
public struct KubernetesRunnerOptions: Sendable {
    /// The image of the pods' `sluice-workspace` and `sluice-collect` containers (`SLUICE_IMAGE`).
    public var sluiceImage: String
    /// A service account with no rights, for merge-request stages (`SLUICE_UNTRUSTED_SERVICE_ACCOUNT`).
    public var untrustedServiceAccount: String
    public var exchange: PodExchange

    public init(environment: [String: String], exchange: PodExchange) {
        sluiceImage = environment["SLUICE_IMAGE"].flatMap { $0.isEmpty ? nil : $0 } ?? "ghcr.io/sluice-ml/sluice:\(SluiceVersion.current)"
        untrustedServiceAccount = environment["SLUICE_UNTRUSTED_SERVICE_ACCOUNT"].flatMap { $0.isEmpty ? nil : $0 } ?? "sluice-untrusted"
        self.exchange = exchange
    }
}

/// Stage tokens: HMAC-SHA256 of the Job's name under a key kept in the state folder, so a
/// restarted controller knows the token of a Job it re-attaches to without storing tokens.
final class RunnerTokens: Sendable {
    private let key: [UInt8]

    init(stateDirectory: String) throws {
        let path = stateDirectory + "/runner.key"
        if let existing = FileManager.default.contents(atPath: path), existing.count == 32 {
            key = [UInt8](existing)
            return
        }
        let fresh = SymmetricKey(size: .bits256)
        let bytes = fresh.withUnsafeBytes { Data($0) }
        try FileManager.default.createDirectory(atPath: stateDirectory, withIntermediateDirectories: true)
        guard FileManager.default.createFile(atPath: path, contents: bytes, attributes: [.posixPermissions: 0o600]) else {
            throw LoadError(message: "cannot write \(path)", hint: "check that the state folder is writable")
        }
        key = [UInt8](bytes)
    }

    /// The name of a run's Secret (unique per installation, as Job names are).
    func secretName(repository: String, run: Int64) -> String {
        StageJob.secretName(run: run, unique: token(job: "\(repository)\n\(run)"))
    }

    func token(job: String) -> String {
        ContentHash.hex(HMAC<SHA256>.authenticationCode(for: Array(job.utf8), using: SymmetricKey(data: key)))
    }
}

/// The API clients of the Kubernetes runner, one per kubeconfig context, shared by the stages
/// of every run (discovery and kept-alive connections are reused), and the stage tokens' key
/// (read from the state folder once, not per stage), and the Job watches of the runs under way.
final class KubeClients: Sendable {
    private let clients = Mutex<[String: KubeClient]>([:])
    let watches = StageWatchRegistry()
    private let tokenKey = Mutex<RunnerTokens?>(nil)

    func tokens(stateDirectory: String) throws -> RunnerTokens {
        if let known = tokenKey.withLock({ $0 }) { return known }
        let loaded = try RunnerTokens(stateDirectory: stateDirectory)
        return tokenKey.withLock { current in
            if current == nil { current = loaded }
            return current!
        }
    }

    func client(context: String?, environment: [String: String]) throws -> KubeClient {
        if let known = clients.withLock({ $0[context ?? ""] }) { return known }
        let client = KubeClient(config: try KubeConfig.load(environment: environment, context: context), fieldManager: "sluice")
        return clients.withLock { c in
            if let other = c[context ?? ""] { return other }
            c[context ?? ""] = client
            return client
        }
    }
}
