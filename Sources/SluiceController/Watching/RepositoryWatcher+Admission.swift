import SluiceCore
import SluiceStore

/// What keeps a head from running on its own: a commit that keeps killing the controller
/// (quarantine), and stages that must be sandboxed where the kernel cannot (`Sandboxed`).
extension RepositoryWatcher {
    /// A commit whose runs died with the controller `RunStore.crashLoopLimit` times (a crash it
    /// causes, or a stage that kills the machine) is not run again automatically: the others
    /// keep being served, and a new commit or a re-run tries again.
    func quarantined(_ update: RefTracker.Update, production: Bool) -> Bool {
        let count: Int
        do { count = try service.store.interruptions(repository: repository.url, commit: update.head, ref: update.ref) } catch {
            log.error("cannot read the run store: \(error)")
            return false
        }
        guard count >= RunStore.crashLoopLimit else { return false }
        if invalidHeads[update.ref] != update.head {
            log.error("quarantined \(CommitID(update.head).short) on \(update.ref): the controller stopped \(count) times while running it; not run again until a new commit or a re-run",
                      metadata: ["ref": .string(update.ref), "commit": .string(CommitID(update.head).short)])
            invalidHeads[update.ref] = update.head
        }
        if production {
            setCondition(.quarantined, message: "\(CommitID(update.head).short) was interrupted \(count) times (the controller crashed or was killed while running it); push a fix or re-run it")
        }
        return true
    }

    /// Whether the stages that must be sandboxed can be, as the `Sandboxed` condition.
    func reportSandbox() {
        let repo = repository
        let which = repo.sandboxAllStages ? "all stages" : "merge-request stages"
        guard repo.mergeRequests || repo.sandboxAllStages else { return }
        switch service.runner.options.sandboxSupport {
        case .available(let abi):
            setCondition(.landlock, message: "\(which) run sandboxed (Landlock ABI \(abi))")
        case .unavailable(let reason) where repo.mergeRequests && !repo.allowUnsandboxed:
            setCondition(.sandboxUnavailable, message: "the sandbox is unavailable (\(reason)): merge-request stages are refused (merge-requests: { allow-unsandboxed: true } runs them unsandboxed)")
        case .unavailable(let reason):
            setCondition(.unsandboxed, message: "the sandbox is unavailable (\(reason)): \(which) run unsandboxed")
        }
    }
}
