/// What a manifest template can use, as Mustache names:
///
/// | name | value |
/// |---|---|
/// | `model.name`, `model.version` | the promoted model |
/// | `model.digest`, `artifact.digest` | `sha256:…` of the model's artifact |
/// | `model.uri`, `artifact.uri` | where the model lives (`models:/name/version` for MLflow) |
/// | `model.signature` | `sha256:…` of the model's signature bundle (`gate.signing`; empty when unsigned) |
/// | `commit`, `commit_short` | the source commit (40 and 12 characters) |
/// | `datasets.<name>` | each dataset's version |
/// | `image.tag` | the image tag to deploy: the source commit's first 12 characters |
/// | `environment`, `namespace` | from `deploy` in `sluice.yaml` |
/// | `run` | the Sluice run that produced the model |
/// | `values.<key>` | the environment's `values` (`environments:`) |
/// | `preview.number`, `preview.url` | a merge-request preview's number and address (empty outside previews) |
public struct DeployFacts: Hashable, Sendable {
    public var model: String
    public var version: String
    public var digest: String
    public var uri: String
    public var commit: String
    public var datasets: [String: String]
    public var environment: String
    public var namespace: String
    public var run: Int64
    public var values: [String: String] = [:]
    /// `sha256:…` of the OpenSSF model-signing bundle, "" when the version is not signed.
    public var signature = ""
    /// A merge-request preview's number and address; nil outside previews.
    public var preview: Preview?

    public struct Preview: Hashable, Sendable {
        public var number: Int
        public var url: String?
        public init(number: Int, url: String?) {
            self.number = number
            self.url = url
        }
    }

    public init(model: String, version: String, digest: String, uri: String, commit: String, datasets: [String: String],
                environment: String, namespace: String, run: Int64) {
        self.model = model
        self.version = version
        self.digest = digest
        self.uri = uri
        self.commit = commit
        self.datasets = datasets
        self.environment = environment
        self.namespace = namespace
        self.run = run
    }

    /// The Mustache context: nested dictionaries of strings.
    public var context: [String: Any] {
        [
            "model": ["name": model, "version": version, "digest": digest, "uri": uri, "signature": signature],
            "artifact": ["digest": digest, "uri": uri],
            "commit": commit,
            "commit_short": CommitID(commit).short,
            "datasets": datasets,
            "image": ["tag": CommitID(commit).short],
            "environment": environment,
            "namespace": namespace,
            "run": String(run),
            "values": values,
            // Outside previews neither is set: `{{^preview.number}}` sections render there, and the names render empty.
            "preview": preview.map { p in ["number": String(p.number)].merging(p.url.map { ["url": $0] } ?? [:]) { a, _ in a } } ?? [String: String](),
        ]
    }

    /// Every name a template may use (for checking templates before rendering).
    public var names: Set<String> {
        var names: Set<String> = ["model", "model.name", "model.version", "model.digest", "model.uri", "model.signature", "artifact", "artifact.digest",
                                  "artifact.uri", "commit", "commit_short", "datasets", "image", "image.tag", "environment", "namespace", "run"]
        for name in datasets.keys { names.insert("datasets.\(name)") }
        names.formUnion(["values", "preview", "preview.number", "preview.url"])
        for key in values.keys { names.insert("values.\(key)") }
        return names
    }
}
