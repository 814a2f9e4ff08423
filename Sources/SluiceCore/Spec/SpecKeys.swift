/// Every key `sluice.yaml` accepts, per section. The JSON Schema shipped in
/// `Spec/sluice.schema.json` must list the same keys (a test checks they agree).
public enum SpecKeys {
    public static let topLevel = ["version", "datasets", "stages", "gate", "deploy", "sync", "runner", "environments", "notify", "preview"]
    public static let sync = ["interval", "selfHeal"]
    public static let dataset = ["path", "dvc", "out"]
    public static let stage = ["run", "uses", "with", "needs", "when", "env", "timeout", "outputs", "metrics", "plots", "params", "cache", "secrets",
                                     "image", "resources", "nodeSelector", "tolerations"]
    public static let plot = ["file", "x", "y", "template", "title"]
    public static let when = ["paths", "datasets", "schedule", "prometheus"]
    public static let prometheus = ["query", "above", "below", "url"]
    public static let validateDataWith = ["data", "schema", "reference"]
    public static let gate = ["policy", "baseline", "model", "registry", "alias", "branch", "artifact", "experiment", "signing"]
    public static let signing = ["key", "key-env", "key-id"]
    public static let registries = ["embedded", "mlflow"]
    public static let deploy = ["manifests", "target", "environment", "namespace", "context", "force", "timeout", "prune", "require"]
    public static let require = ["signature"]
    public static let prune = ["namespaces"]
    public static let environment = ["name", "manifests", "target", "namespace", "context", "force", "timeout", "prune",
                                     "values", "verify", "promote", "soak", "strategy", "require"]
    public static let verify = ["name", "run", "timeout", "image", "prometheus", "compare"]
    public static let strategy = ["canary"]
    public static let canary = ["steps", "pause", "analysis"]
    public static let analysis = ["query", "min", "max", "interval", "count", "failureLimit", "url"]
    public static let preview = ["environment", "on", "ttl", "max", "namespace", "url", "quota", "egress"]
    public static let comparison = ["baseline", "query", "direction", "test", "confidence", "max-relative-change", "interval", "count", "step",
                                    "min-samples", "url"]
    public static let runner = ["kind", "namespace", "serviceAccount", "image", "imagePullSecrets", "ttlSecondsAfterFinished",
                                "pendingTimeout", "context"]
    public static let runnerKinds = ["local", "kubernetes"]
    /// `resources:` shorthands (requests and limits alike) and the explicit maps.
    public static let resources = ["cpu", "memory", "gpu", "requests", "limits"]
    public static let resourceNames = ["cpu", "memory", "gpu", "ephemeral-storage"]
    public static let toleration = ["key", "operator", "value", "effect", "tolerationSeconds"]
    public static let supportedVersions = [1]
    public static let baselines = ["production"]
}
