/// What the planner may ask about one commit's files. The git adapter answers from
/// the commit's tree; tests answer from a table. No I/O happens in the core.
public protocol CommitContent {
    /// The commit id.
    var commitID: String { get }
    /// Object id of the whole tree.
    var rootTreeID: String { get }
    /// Object id of a file or folder, nil when absent.
    func objectID(at path: String) -> String?
    /// Every file below a folder ("" = all) as (path, object id).
    func files(under folder: String) -> [(path: String, id: String)]
    /// The resolved value of a parameter reference (canonical text), nil when absent.
    func parameter(_ ref: ParamRef) -> String?
}

/// The facts the planner decides from: what changed since the base commit, and each
/// dataset's version before and now.
public struct ChangeFacts: Sendable {
    /// nil: there is no base (first commit on the ref): everything counts as new.
    public var baseCommit: String?
    public var changes: [FileChange]
    public var datasetVersions: [String: String]
    public var baseDatasetVersions: [String: String]
    /// Notes for the report, e.g. a force-push that rewrote history.
    public var notes: [String]
    /// Stages a schedule or a live metric asks to retrain now, with the reason. They run
    /// even when nothing changed, and bypass the cache (retraining is the point).
    public var triggered: [String: String] = [:]
    /// The dataset versions models were already trained and gated on (the production model's
    /// and every gated candidate's); nil when unknown (no gate). A stage that declares
    /// datasets runs while the commit's versions of them match none of these, whatever
    /// happened to the commits in between (a run that failed before training, a lost event).
    public var trained: [TrainedData]?

    public struct TrainedData: Hashable, Sendable {
        /// Who was trained on it, for the reason a user reads: `production version 3`, `run 7's candidate`.
        public var label: String
        public var datasetVersions: [String: String]
        public init(label: String, datasetVersions: [String: String]) {
            self.label = label
            self.datasetVersions = datasetVersions
        }
    }

    public init(baseCommit: String?, changes: [FileChange], datasetVersions: [String: String],
                baseDatasetVersions: [String: String], notes: [String] = []) {
        self.baseCommit = baseCommit
        self.changes = changes
        self.datasetVersions = datasetVersions
        self.baseDatasetVersions = baseDatasetVersions
        self.notes = notes
    }
}
