import FoundationEssentials
import SluiceCore
import Synchronization

/// What Sluice's pod endpoint serves to the Sluice containers of stage pods: each stage's
/// workspace to the init container, and, once the stage container has ended, the list of
/// paths to send back, whose archive it keeps for the stage. Keyed by the stage's token.
///
/// The endpoint (HTTP, in `SluiceServer`) is thin: it authenticates the token and moves
/// bytes; the state lives here so the Kubernetes runner (in `SluiceController`) and the
/// endpoint share it.
public final class PodExchange: Sendable {
    public struct Stage: Sendable {
        /// The folder the init container receives (the run's workspace).
        public var workspace: String
        /// The stage's scratch folder: the workspace's archive and the collector's go there.
        public var scratch: String
        public init(workspace: String, scratch: String) {
            self.workspace = workspace
            self.scratch = scratch
        }
        public var workspaceArchive: String { scratch + "/workspace.tar" }
        public var outputsArchive: String { scratch + "/outputs.tar" }
    }

    struct Entry {
        var stage: Stage
        /// nil while the stage container runs; then the paths to send back (empty: nothing).
        var collect: [String]?
        var received = false
    }

    private let entries = Mutex<[String: Entry]>([:])
    /// Where pods reach the endpoint; set when the server is listening.
    private let url = Mutex<String?>(nil)
    /// Starts a server for the endpoint on first use (`sluice run`); nil when the controller's
    /// own server serves it (`sluice watch`).
    private let start: (@Sendable (PodExchange) async throws -> String)?

    public init(url: String? = nil, start: (@Sendable (PodExchange) async throws -> String)? = nil) {
        self.url.withLock { $0 = url }
        self.start = start
    }

    /// The URL pods are given (started on first use when the exchange owns a server).
    public func address() async throws -> String {
        if let known = url.withLock({ $0 }) { return known }
        guard let start else { throw LoadError(message: "Sluice's pod endpoint is not listening yet", hint: "retry once the server is up") }
        let started = try await start(self)
        return url.withLock { current in
            if current == nil { current = started }
            return current!
        }
    }

    public func setAddress(_ address: String) { url.withLock { $0 = address } }

    // MARK: the Kubernetes runner's side

    public func register(token: String, _ stage: Stage) {
        entries.withLock { $0[token] = Entry(stage: stage) }
    }

    public func unregister(token: String) {
        _ = entries.withLock { $0.removeValue(forKey: token) }
    }

    /// The stage container ended: the collector may send `paths` (empty: nothing to send).
    public func stageEnded(token: String, collect paths: [String]) {
        entries.withLock { $0[token]?.collect = paths }
    }

    public func hasReceived(token: String) -> Bool { entries.withLock { $0[token]?.received ?? false } }

    // MARK: the endpoint's side

    public func stage(token: String) -> Stage? { entries.withLock { $0[token]?.stage } }

    /// nil: unknown token; `.some(nil)`: the stage still runs; else the paths to send back.
    public func collect(token: String) -> [String]?? {
        entries.withLock { e in e[token].map { $0.collect } }
    }

    /// Where to write the archive of `token`'s outputs (nil: unknown token, or not asked for yet).
    public func inbox(token: String) -> String? {
        entries.withLock { e in e[token].flatMap { $0.collect == nil ? nil : $0.stage.outputsArchive } }
    }

    public func received(token: String) { entries.withLock { $0[token]?.received = true } }
}
