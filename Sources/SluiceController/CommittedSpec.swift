public import SluiceCore
public import SluiceGit

/// The `sluice.yaml` as committed: what a run, a promotion or a deploy of a commit reads. One
/// place, so every reader agrees on the file, its name in diagnostics and what "no valid spec" means.
public enum CommittedSpec {
    /// The spec of `commit` (a full id or a ref), parsed and checked (nil `paths`: referenced
    /// files are not looked up). nil when the commit has no `sluice.yaml`.
    public static func result(repository: GitRepository, commit: String) throws -> SpecLoader.Result? {
        guard let bytes = try repository.commit(commit).contents(at: CommitPlanner.specFile) else { return nil }
        return SpecLoader.load(bytes: bytes, file: CommitPlanner.specFile, paths: nil)
    }

    /// The valid spec of `commit`; nil when it has none or an invalid one.
    public static func load(repository: GitRepository, commit: String) throws -> PipelineSpec? {
        try result(repository: repository, commit: commit)?.spec
    }
}

extension ProductionBranch {
    /// The production branch of a watched repository: `configured`, else the `gate.branch` that the
    /// default branch's `sluice.yaml` names, else the default branch (see `ProductionBranch.name`).
    public static func resolve(configured: String?, repository: GitRepository) throws -> String {
        if let configured { return configured }
        let defaultBranch = repository.defaultBranch ?? "main"
        let gateBranch = try repository.resolveReference(ref(defaultBranch)).flatMap { head in
            try CommittedSpec.load(repository: repository, commit: head)?.gate?.branch
        }
        return name(configured: nil, gateBranch: gateBranch, defaultBranch: defaultBranch)
    }
}
