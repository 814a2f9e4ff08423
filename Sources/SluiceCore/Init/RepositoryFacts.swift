/// What `sluice init` found in a repository, from which it writes a first `sluice.yaml`
/// (`StarterSpec`). Paths are relative to the repository's root.
public struct RepositoryFacts: Sendable, Hashable {
    /// A data file the pipeline should validate: in git (`path`), or tracked by DVC (`dvcPointer`).
    public struct DataFile: Sendable, Hashable {
        /// The dataset's name in `sluice.yaml` (the file's name without extension).
        public var name: String
        public var path: String
        /// The `.dvc` pointer that tracks it, when DVC does.
        public var dvcPointer: String?
        /// Where its inferred schema goes (`schemas/<name>.yaml`).
        public var schema: String

        public init(name: String, path: String, dvcPointer: String?, schema: String) {
            self.name = name
            self.path = path
            self.dvcPointer = dvcPointer
            self.schema = schema
        }
    }

    /// A metric the evaluation writes and whether more is better.
    public struct Metric: Sendable, Hashable {
        public var name: String
        public var higherIsBetter: Bool

        public init(name: String, higherIsBetter: Bool) {
            self.name = name
            self.higherIsBetter = higherIsBetter
        }
    }

    public var model: String
    /// `ruff check <folders>` when ruff is configured (pyproject's `[tool.ruff]`, `ruff.toml`).
    public var lintFolders: [String]?
    /// The folder of `test_*.py` files pytest runs.
    public var testFolder: String?
    public var dataFiles: [DataFile] = []
    /// `train.py` (or `src/train.py`, …).
    public var trainScript: String?
    /// `evaluate.py` (or `src/evaluate.py`, …).
    public var evaluateScript: String?
    /// `params.yaml`, when present: a stage parameter file (its change re-runs training).
    public var paramsFile: String?
    /// What the evaluation writes, found in its source; empty when none is recognised.
    public var metrics: [Metric] = []
    /// A folder of Kubernetes manifests (`manifests/`, `k8s/`, `deploy/`).
    public var manifests: String?

    public init(model: String) { self.model = model }

    /// Metric names recognised in an evaluation's source, with their direction (as scikit-learn
    /// and most training code spell them).
    public static let knownMetrics: [(name: String, higherIsBetter: Bool)] = [
        ("accuracy", true), ("f1_macro", true), ("f1", true), ("roc_auc", true), ("auc", true), ("precision", true), ("recall", true),
        ("r2", true), ("rmse", false), ("mae", false), ("mse", false), ("log_loss", false), ("loss", false),
    ]

    /// The known metrics a source text names as quoted keys (`"accuracy"`, `'rmse'`), in the
    /// order the text first names them; `f1` is dropped when `f1_macro` is there, `loss` when
    /// `log_loss` is.
    public static func metrics(inSource text: String) -> [Metric] {
        let chars = Array(text.utf8)
        func firstQuoted(_ name: String) -> Int? {
            [Array("\"\(name)\"".utf8), Array("'\(name)'".utf8)].compactMap { needle -> Int? in
                guard chars.count >= needle.count else { return nil }
                return (0...(chars.count - needle.count)).first { chars[$0..<($0 + needle.count)].elementsEqual(needle) }
            }.min()
        }
        var found = knownMetrics.compactMap { m in firstQuoted(m.name).map { ($0, Metric(name: m.name, higherIsBetter: m.higherIsBetter)) } }
            .sorted { $0.0 < $1.0 }.map(\.1)
        let names = Set(found.map(\.name))
        if names.contains("f1_macro") { found.removeAll { $0.name == "f1" } }
        if names.contains("log_loss") { found.removeAll { $0.name == "loss" } }
        return found
    }
}
