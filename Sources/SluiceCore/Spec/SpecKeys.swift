/// Every key `sluice.yaml` accepts, per section. The JSON Schema shipped in
/// `Spec/sluice.schema.json` must list the same keys (a test checks they agree).
public enum SpecKeys {
    public static let topLevel = ["version", "datasets", "stages", "gate", "deploy", "sync"]
    public static let sync = ["interval", "selfHeal"]
    public static let dataset = ["path", "dvc", "out"]
    public static let stage = ["run", "uses", "with", "needs", "when", "env", "timeout", "outputs", "metrics", "params", "cache", "secrets"]
    public static let when = ["paths", "datasets", "schedule", "prometheus"]
    public static let prometheus = ["query", "above", "below", "url"]
    public static let validateDataWith = ["data", "schema", "reference"]
    public static let gate = ["policy", "baseline", "model", "registry", "alias", "branch", "artifact", "experiment"]
    public static let registries = ["embedded", "mlflow"]
    public static let deploy = ["manifests", "target", "environment", "namespace", "context", "force", "timeout", "prune"]
    public static let prune = ["namespaces"]
    public static let supportedVersions = [1]
    public static let baselines = ["production"]
}
