public import SluiceCore
public import SluiceGit
import SluiceYAML

/// Plans one commit of a repository: reads `sluice.yaml` from the commit, works out
/// the base to compare against, the changed paths and data versions, and asks the
/// core planner which stages run.
public struct CommitPlanner {
    public struct Outcome: Sendable {
        /// nil when the commit has no usable spec (see `diagnostics` and `notes`).
        public var plan: Plan?
        public var commit: String
        public var diagnostics: [Diagnostic]
        public var notes: [String]
        /// The commit's spec and data versions, when it has a usable spec.
        public var spec: PipelineSpec? = nil
        public var datasetVersions: [String: String] = [:]
        /// Resolved values of every `params` entry, for artifact lineage.
        public var parameters: [String: String] = [:]
        /// `sluice plan --verify-*`: whether the commits may run (nil: not checked).
        public var source: SourceVerification.Outcome? = nil
    }

    public static let specFile = "sluice.yaml"

    public let repository: GitRepository
    /// Where stages run for this plan, whatever the spec says (`sluice run --runner`); it
    /// changes cache keys (the image is part of a Kubernetes stage's key).
    public var runnerOverride: RunnerSpec.Kind?
    /// The image of Kubernetes stages when `sluice.yaml` names none (`SLUICE_STAGE_IMAGE`).
    public var defaultImage: String?
    public init(repository: GitRepository, runnerOverride: RunnerSpec.Kind? = nil, defaultImage: String? = nil) {
        self.repository = repository
        self.runnerOverride = runnerOverride
        self.defaultImage = defaultImage
    }

    /// - Parameters:
    ///   - revision: the commit to plan (default `HEAD`).
    ///   - since: the base to compare against; default the commit's first parent.
    ///     A base that is not an ancestor (history was rewritten by a force-push) is
    ///     replaced by the merge base, and the plan says so.
    ///   - triggers: stages a schedule or live metric asks to retrain, given the commit's spec.
    ///   - trained: the dataset versions already trained on, given the commit's spec (nil: unknown).
    public func plan(revision: String = "HEAD", since: String? = nil, knownCacheKeys: (PipelineSpec) -> Set<String> = { _ in [] },
                     trained: (PipelineSpec) -> [ChangeFacts.TrainedData]? = { _ in nil },
                     triggers: (PipelineSpec) -> (triggered: [String: String], notes: [String]) = { _ in ([:], []) }) throws(GitError) -> Outcome {
        let commit = try repository.commit(revision)
        var notes: [String] = []
        if repository.isShallow { notes.append("shallow clone: history before the shallow boundary is not visible") }

        guard let bytes = commit.contents(at: Self.specFile) else {
            notes.append("commit \(CommitID(commit.id).short) has no \(Self.specFile): nothing to run")
            return Outcome(plan: nil, commit: commit.id, diagnostics: [], notes: notes)
        }
        let loaded = SpecLoader.load(bytes: bytes, file: Self.specFile, paths: CommitPathLookup(commit))
        guard var spec = loaded.spec else {
            return Outcome(plan: nil, commit: commit.id, diagnostics: loaded.diagnostics, notes: notes)
        }
        var diagnostics = loaded.diagnostics
        if let dvc = commit.contents(at: DVCPlots.file) {
            // A DVC project's plots show without configuring them again; a dvc.yaml Sluice cannot read only loses them.
            do throws(YAMLError) {
                let read = DVCPlots.decode(try YAMLParser.parseDocument(dvc, file: DVCPlots.file))
                spec.dvcPlots = read.plots
                diagnostics += read.diagnostics
            } catch {
                diagnostics.append(.warning(at: error.diagnostic.location, "dvc.yaml cannot be read, so its plots are not drawn: \(error.diagnostic.message)"))
            }
        }
        if let runnerOverride { spec.runner.kind = runnerOverride }
        if spec.runner.image == nil { spec.runner.image = defaultImage }

        var base: GitCommit?
        if let since {
            let requested = try repository.commit(since)
            if try repository.isAncestor(requested.id, of: commit.id) {
                base = requested
            } else if let mergeBase = try repository.mergeBase(requested.id, commit.id) {
                notes.append("history rewritten: \(CommitID(requested.id).short) is not an ancestor of \(CommitID(commit.id).short) (force-push?); planning against merge base \(CommitID(mergeBase).short)")
                base = try repository.commit(mergeBase)
            } else {
                notes.append("history rewritten: \(CommitID(requested.id).short) shares no history with \(CommitID(commit.id).short); planning as a first commit")
            }
        } else if let parent = commit.parentIDs.first {
            base = try? repository.commit(parent)
            if base == nil { notes.append("parent \(CommitID(parent).short) is not available (shallow clone?); planning as a first commit") }
        }

        let changes = try commit.changedPaths(since: base)
        let now = DatasetVersions.read(spec, in: commit)
        let before = base.map { DatasetVersions.read(spec, in: $0).versions } ?? [:]
        let external = triggers(spec)
        notes += external.notes
        var facts = ChangeFacts(baseCommit: base?.id, changes: changes, datasetVersions: now.versions,
                                baseDatasetVersions: before, notes: notes)
        facts.triggered = external.triggered
        facts.trained = trained(spec)
        let plan = Planner.plan(spec: spec, content: GitCommitContent(commit), facts: facts, knownCacheKeys: knownCacheKeys(spec))
        let content = GitCommitContent(commit)
        var parameters: [String: String] = [:]
        for ref in spec.stages.flatMap(\.params) {
            parameters[ref.keyPath.map { "\(ref.file):\($0)" } ?? ref.file] = content.parameter(ref) ?? "missing"
        }
        return Outcome(plan: plan, commit: commit.id, diagnostics: diagnostics + now.problems, notes: notes,
                       spec: spec, datasetVersions: now.versions, parameters: parameters)
    }

    /// What a plan says when the ref's history was rewritten since it was last processed.
    public static func rewrittenNote(_ update: RefTracker.Update) -> String? {
        guard case .rewritten(let mergeBase) = update.kind, let previous = update.previous else { return nil }
        return mergeBase.map { "history of \(update.ref) rewritten (force-push): last processed \(CommitID(previous).short) is not an ancestor of \(CommitID(update.head).short); planning against merge base \(CommitID($0).short)" }
            ?? "history of \(update.ref) rewritten (force-push): last processed \(CommitID(previous).short) shares no history with \(CommitID(update.head).short); planning as a first commit"
    }
}
