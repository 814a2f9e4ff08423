/// `runner:` — where a pipeline's command stages run: as processes next to Sluice (`local`,
/// the default) or as Kubernetes Jobs (`kubernetes`), one pod per stage.
public struct RunnerSpec: Hashable, Sendable {
    public enum Kind: String, Hashable, Sendable, CaseIterable { case local, kubernetes }

    public var kind: Kind = .local
    /// The namespace of the stages' Jobs (default: the kubeconfig context's).
    public var namespace: String?
    /// The stages' own service account (default: the namespace's `default`); never the controller's.
    public var serviceAccount: String?
    /// The image of stages that name none.
    public var image: String?
    public var imagePullSecrets: [String] = []
    /// How long finished Jobs stay for `kubectl logs` before Kubernetes deletes them.
    public var ttlSecondsAfterFinished: Int = 3600
    /// How long a stage's pod may wait to start (unschedulable, image not pulled) before the stage fails.
    public var pendingTimeoutSeconds: Int = 600
    /// kubeconfig context (default: the current context).
    public var context: String?
    public var location: SourceLocation?

    public init(kind: Kind = .local, location: SourceLocation? = nil) {
        self.kind = kind
        self.location = location
    }
}

/// How a stage's pod is shaped on the Kubernetes runner: image, resources and placement.
/// The local runner ignores all but the GPU check (a GPU cannot be given to a local process).
public struct PodSettings: Hashable, Sendable {
    public var image: String?
    /// Resource name (`cpu`, `memory`, `nvidia.com/gpu`, ...) to quantity, as written.
    public var requests: [KeyValue] = []
    public var limits: [KeyValue] = []
    public var nodeSelector: [KeyValue] = []
    public var tolerations: [Toleration] = []

    public init() {}

    public var isEmpty: Bool { self == PodSettings() }
    public var gpus: String? { limits.first { $0.key == Self.gpuResource }?.value }

    /// What `gpu:` requests in Kubernetes.
    public static let gpuResource = "nvidia.com/gpu"
}

/// A pod toleration, as Kubernetes spells it.
public struct Toleration: Hashable, Sendable {
    public var key: String?
    public var `operator`: String?
    public var value: String?
    public var effect: String?
    public var tolerationSeconds: Int?

    public init(key: String? = nil, operator: String? = nil, value: String? = nil, effect: String? = nil, tolerationSeconds: Int? = nil) {
        self.key = key
        self.operator = `operator`
        self.value = value
        self.effect = effect
        self.tolerationSeconds = tolerationSeconds
    }
}
