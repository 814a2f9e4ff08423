/// The Kubernetes Job that runs one stage on the Kubernetes runner.
///
/// The user's image needs nothing from Sluice. The pod shares one `emptyDir`, the workspace:
/// - init container `sluice-workspace` (the Sluice image) fetches the stage's workspace (the
///   commit's tree and the restored outputs of what it needs) from Sluice's pod endpoint;
/// - container `stage` (the stage's image) runs the command as written, in the workspace;
/// - container `sluice-collect` (the Sluice image) waits until Sluice, which watches the pod,
///   says the stage container has ended, then sends the declared outputs and metrics file back.
/// Both Sluice containers authenticate with a token read from the run's Secret, which also
/// holds the stage's declared secrets: the pod spec names keys, never values.
public struct StageJob: Sendable {
    public static let workspacePath = "/workspace"
    public static let stageContainer = "stage"
    public static let workspaceContainer = "sluice-workspace"
    public static let collectContainer = "sluice-collect"
    public static let tokenVariable = "SLUICE_POD_TOKEN"
    public static let endpointVariable = "SLUICE_POD_ENDPOINT"

    public struct Owner: Sendable, Hashable {
        public var apiVersion = "v1", kind = "Secret", name: String, uid: String
        public init(name: String, uid: String) {
            self.name = name
            self.uid = uid
        }
    }

    public var name: String
    public var namespace: String
    public var labels: [String: String]
    public var annotations: [String: String] = [:]
    public var stage: StageSpec
    public var image: String
    public var sluiceImage: String
    /// The URL at which pods reach Sluice's pod endpoint.
    public var endpoint: String
    public var secretName: String
    /// The key of this stage's token in the run's Secret.
    public var tokenKey: String
    /// Plain environment of the stage container (no secrets).
    public var variables: [String: String]
    /// Environment variables read from the run's Secret (same key as the variable's name).
    public var secretVariables: [String] = []
    public var serviceAccount: String?
    /// Whether the pod gets its service account's API token (never for merge requests).
    public var automountToken = false
    public var owner: Owner?
    public var ttlSecondsAfterFinished: Int
    public var imagePullSecrets: [String] = []

    public init(name: String, namespace: String, labels: [String: String], stage: StageSpec, image: String, sluiceImage: String,
                endpoint: String, secretName: String, tokenKey: String, variables: [String: String], ttlSecondsAfterFinished: Int) {
        self.name = name
        self.namespace = namespace
        self.labels = labels
        self.stage = stage
        self.image = image
        self.sluiceImage = sluiceImage
        self.endpoint = endpoint
        self.secretName = secretName
        self.tokenKey = tokenKey
        self.variables = variables
        self.ttlSecondsAfterFinished = ttlSecondsAfterFinished
    }

    /// A Job name within Kubernetes' 63 characters. `unique` distinguishes the repository, run
    /// and stage, and the Sluice installation (a keyed hash: two state folders never collide).
    public static func name(run: Int64, stage: String, unique: String) -> String {
        "sluice-r\(run)-\(labelSlug(stage, max: 30))-\(unique.prefix(8))"
    }

    /// The run's Secret (tokens and declared secrets); the Jobs of the run are its dependents.
    public static func secretName(run: Int64, unique: String) -> String {
        "sluice-r\(run)-\(unique.prefix(8))"
    }

    /// The token's key in the run's Secret for a stage (stage names may hold characters keys cannot).
    public static func tokenKey(stage: String) -> String {
        "sluice-token-\(ContentHash.sha256Hex(Array(stage.utf8)).prefix(12))"
    }

    /// Lower-case letters, digits and '-' only, trimmed to `max`, never empty: usable in names and label values.
    public static func labelSlug(_ text: String, max: Int = 63) -> String {
        var out = String(text.lowercased().map { $0.isASCII && ($0.isLetter || $0.isNumber) ? $0 : "-" }.prefix(max))
        while out.hasPrefix("-") { out.removeFirst() }
        while out.hasSuffix("-") { out.removeLast() }
        return out.isEmpty ? "x" : out
    }

    public static func labels(repository: String, run: Int64, stage: String, commit: String) -> [String: String] {
        ["app.kubernetes.io/managed-by": "sluice", "sluice.dev/repository": labelSlug(repository),
         "sluice.dev/run": String(run), "sluice.dev/stage": labelSlug(stage), "sluice.dev/commit": commit]
    }

    public func object() -> [String: Any] {
        var metadata: [String: Any] = ["name": name, "namespace": namespace, "labels": labels,
                                       "annotations": annotations.merging(["sluice.dev/stage": stage.name]) { a, _ in a }]
        if let owner {
            metadata["ownerReferences"] = [["apiVersion": owner.apiVersion, "kind": owner.kind, "name": owner.name, "uid": owner.uid]]
        }
        var spec: [String: Any] = ["backoffLimit": 0, "ttlSecondsAfterFinished": ttlSecondsAfterFinished,
                                   "template": ["metadata": ["labels": labels], "spec": podSpec()]]
        if let t = stage.timeoutSeconds { spec["activeDeadlineSeconds"] = t }
        return ["apiVersion": "batch/v1", "kind": "Job", "metadata": metadata, "spec": spec]
    }

    func podSpec() -> [String: Any] {
        let mount: [[String: Any]] = [["name": "workspace", "mountPath": Self.workspacePath]]
        let sluiceEnv: [[String: Any]] = [
            ["name": Self.endpointVariable, "value": endpoint],
            ["name": Self.tokenVariable, "valueFrom": ["secretKeyRef": ["name": secretName, "key": tokenKey]]],
        ]
        let small: [String: Any] = ["requests": ["cpu": "10m", "memory": "32Mi"], "limits": ["memory": "256Mi"]]
        let locked: [String: Any] = ["allowPrivilegeEscalation": false]
        var env: [[String: Any]] = variables.sorted { $0.key < $1.key }.map { ["name": $0.key, "value": $0.value] }
        env += secretVariables.sorted().map { ["name": $0, "valueFrom": ["secretKeyRef": ["name": secretName, "key": $0]]] }
        var main: [String: Any] = ["name": Self.stageContainer, "image": image, "workingDir": Self.workspacePath,
                                   "command": command, "env": env, "volumeMounts": mount]
        var resources: [String: Any] = [:]
        if !stage.pod.requests.isEmpty { resources["requests"] = Dictionary(stage.pod.requests.map { ($0.key, $0.value) }) { a, _ in a } }
        if !stage.pod.limits.isEmpty { resources["limits"] = Dictionary(stage.pod.limits.map { ($0.key, $0.value) }) { a, _ in a } }
        if !resources.isEmpty { main["resources"] = resources }
        var pod: [String: Any] = [
            "restartPolicy": "Never",
            "automountServiceAccountToken": automountToken,
            "enableServiceLinks": false,
            "volumes": [["name": "workspace", "emptyDir": [String: Any]()]],
            "initContainers": [["name": Self.workspaceContainer, "image": sluiceImage, "command": ["sluice", "pod", "workspace"],
                                "workingDir": Self.workspacePath, "env": sluiceEnv, "volumeMounts": mount,
                                "resources": small, "securityContext": locked]],
            "containers": [main,
                           ["name": Self.collectContainer, "image": sluiceImage, "command": ["sluice", "pod", "collect"],
                            "workingDir": Self.workspacePath, "env": sluiceEnv, "volumeMounts": mount,
                            "resources": small, "securityContext": locked]],
        ]
        if let serviceAccount { pod["serviceAccountName"] = serviceAccount }
        if !imagePullSecrets.isEmpty { pod["imagePullSecrets"] = imagePullSecrets.map { ["name": $0] } }
        if !stage.pod.nodeSelector.isEmpty { pod["nodeSelector"] = Dictionary(stage.pod.nodeSelector.map { ($0.key, $0.value) }) { a, _ in a } }
        if !stage.pod.tolerations.isEmpty {
            pod["tolerations"] = stage.pod.tolerations.map { t -> [String: Any] in
                var o: [String: Any] = [:]
                if let k = t.key { o["key"] = k }
                if let op = t.operator { o["operator"] = op }
                if let v = t.value { o["value"] = v }
                if let e = t.effect { o["effect"] = e }
                if let s = t.tolerationSeconds { o["tolerationSeconds"] = s }
                return o
            }
        }
        return pod
    }

    var command: [String] {
        switch stage.command {
        case .shell(let text)?: return ["/bin/sh", "-c", text]
        case .argv(let argv)?: return argv
        case nil: return ["/bin/true"]
        }
    }
}
