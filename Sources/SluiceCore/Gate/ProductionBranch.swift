/// Which branch promotes: one rule for the gate, the cache scopes, the controller's tracking and
/// the environment chains.
///
/// The controller's `branch:` for the repository wins; else the `gate.branch` of `sluice.yaml`;
/// else the repository's default branch (its `HEAD`); else `main`. Merge-request refs and every
/// other branch get reports, never promotions.
public enum ProductionBranch {
    public static func name(configured: String?, gateBranch: String?, defaultBranch: String?) -> String {
        configured ?? gateBranch ?? defaultBranch ?? "main"
    }

    /// The full ref of the branch `name`.
    public static func ref(_ name: String) -> String { "refs/heads/" + name }

    /// Whether a run of `ref` may promote.
    public static func promotes(ref: String?, branch: String) -> Bool { ref == Self.ref(branch) }
}
