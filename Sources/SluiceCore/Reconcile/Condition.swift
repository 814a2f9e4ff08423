/// A named fact about a repository or environment, as Flux and Argo CD report them:
/// `SpecValid=False` with a reason and a message, and when the status last changed.
/// The controller sets them; the web UI, `sluice status`, `/readyz` and `/metrics` show them.
public struct Condition: Hashable, Sendable, Codable {
    /// The conditions Sluice sets, in the order they are shown.
    public enum Kind: String, Hashable, Sendable, Codable, CaseIterable {
        /// The repository could be fetched.
        case fetched = "Fetched"
        /// The tip (or, with `verify: { mode: all }`, every new commit) is signed by a trusted key.
        /// Set only for repositories with `verify:`.
        case sourceVerified = "SourceVerified"
        /// The tip's `sluice.yaml` is valid.
        case specValid = "SpecValid"
        /// The tip's pipeline ran (stages, training) without failing.
        case trained = "Trained"
        /// The tip's candidate got a verdict (false: the gate could not be evaluated).
        case gated = "Gated"
        /// The environment runs the production version.
        case deployed = "Deployed"
        /// The live objects match the rendered manifests.
        case inSync = "InSync"
        /// The deployed workloads are healthy.
        case healthy = "Healthy"
        /// Stages that must be sandboxed (a merge request's) can be. Shown, not part of `Ready`:
        /// the production branch is served either way.
        case sandboxed = "Sandboxed"
        /// The forge accepted the last merge-request comment and status (false: its message).
        /// Shown, not part of `Ready`.
        case reported = "Reported"
        /// A version is on its way into the environment (`environments:`): soaking, waiting for an
        /// approval, a canary step; false when it stopped there (its checks or canary failed).
        /// Shown, not part of `Ready`: the environment keeps serving its version.
        case promoting = "Promoting"
        /// The registry's production marker (MLflow's alias) names the promotion log's version;
        /// false while a move the log decided is refused (the controller retries it every pass).
        /// Set only once a move was due.
        case registryInSync = "RegistryInSync"
        /// Everything above that applies is true.
        case ready = "Ready"

        /// Shown with the others, but never what makes `Ready` false.
        public static let informational: Set<Kind> = [.sandboxed, .reported, .promoting]
    }

    public enum Status: String, Hashable, Sendable, Codable {
        case `true` = "True"
        case `false` = "False"
        case unknown = "Unknown"
    }

    public var kind: Kind
    public var status: Status
    /// One CamelCase word a program can match on, e.g. `InvalidSpec`, `FetchFailed`.
    public var reason: String
    /// What a person reads: what is wrong and what to do.
    public var message: String
    /// Seconds since 1970 when `status` last changed.
    public var transitionTime: Double

    public init(_ kind: Kind, _ status: Status, reason: String, message: String, at time: Double) {
        self.kind = kind
        self.status = status
        self.reason = reason
        self.message = message
        self.transitionTime = time
    }

    public var isTrue: Bool { status == .true }
}

/// The conditions of one repository or environment. Setting a condition keeps its
/// transition time while the status stays the same, and reports whether the status changed
/// (the controller logs each change once).
public struct Conditions: Hashable, Sendable, Codable {
    public private(set) var all: [Condition] = []

    public init(_ all: [Condition] = []) { self.all = all.sorted { Self.order($0.kind) < Self.order($1.kind) } }

    public subscript(kind: Condition.Kind) -> Condition? { all.first { $0.kind == kind } }

    /// Sets `reason`'s condition with its status; returns the condition when its status (or
    /// reason) changed, nil otherwise.
    @discardableResult
    public mutating func set(_ reason: ConditionReason, message: String, at time: Double) -> Condition? {
        set(Condition(reason.kind, reason.status, reason: reason.rawValue, message: message, at: time))
    }

    /// Sets a condition observed elsewhere (an environment's, or `Ready` computed from a merged
    /// set); the transition time stays while the status and reason do.
    @discardableResult
    public mutating func set(_ condition: Condition) -> Condition? {
        if let i = all.firstIndex(where: { $0.kind == condition.kind }) {
            let old = all[i]
            let changed = old.status != condition.status || old.reason != condition.reason
            all[i] = condition
            if !changed { all[i].transitionTime = old.transitionTime }
            return changed ? all[i] : nil
        }
        all.append(condition)
        all.sort { Self.order($0.kind) < Self.order($1.kind) }
        return condition
    }

    public mutating func remove(_ kind: Condition.Kind) { all.removeAll { $0.kind == kind } }

    /// `Ready` from the others: false with the first condition that is not true (its reason and
    /// message); unknown while one of `required` has not been observed yet; else true.
    @discardableResult
    public mutating func updateReady(at time: Double, required: [Condition.Kind] = []) -> Condition? {
        if let bad = all.first(where: { $0.kind != .ready && !Condition.Kind.informational.contains($0.kind) && $0.status != .true }) {
            return set(Condition(.ready, bad.status == .unknown ? .unknown : .false, reason: bad.reason, message: "\(bad.kind.rawValue): \(bad.message)", at: time))
        }
        if let missing = required.first(where: { self[$0] == nil }) {
            return set(.reconciling, message: "\(missing.rawValue) not observed yet", at: time)
        }
        return set(.reconciled, message: "the repository is reconciled", at: time)
    }

    static func order(_ kind: Condition.Kind) -> Int { Condition.Kind.allCases.firstIndex(of: kind) ?? 0 }
}
