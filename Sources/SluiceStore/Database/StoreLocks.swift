public import SluiceCore

/// What one process at a time may hold, among every process sharing the run store: a run (its
/// owner is alive while it holds it) and a stage's inputs (executed once, the others wait for
/// its stored result). On SQLite, an exclusive `flock` on a file of `<state>/locks/`; on
/// PostgreSQL, a session-level advisory lock. Either way it goes when the holder lets go or its
/// process dies (even by `kill -9`), which is how the next start tells an interrupted run from a
/// live one, on this machine or another.
public enum LockName: Sendable, Hashable {
    case run(Int64)
    case stageInputs(repository: String, cacheKey: String)

    /// For messages and the lock file's name.
    var fileName: String {
        switch self {
        case .run(let id): "run-\(id).lock"
        case .stageInputs(let repository, let cacheKey):
            "stage-\(ContentHash.sha256Hex(Array((repository + "\n" + cacheKey).utf8)).prefix(24)).lock"
        }
    }
}

/// A lock this process holds; released when the value goes.
public final class HeldLock: Sendable {
    public let name: LockName
    private let release: @Sendable () -> Void

    init(_ name: LockName, release: @escaping @Sendable () -> Void) {
        self.name = name
        self.release = release
    }

    deinit { release() }
}

extension RunStore {
    /// Claims queued run `id` for this process; throws when another holds it, or when it is no
    /// longer queued: a controller paused between queuing a run and claiming it (a stopped VM, a
    /// starved process) may find that the next leader took the run for left behind meanwhile,
    /// marked it interrupted and retried it; running it too would run the commit twice.
    public func claimRun(_ id: Int64) throws(StoreError) -> HeldLock {
        guard let lock = try tryLock(.run(id)) else { throw StoreError(description: "run \(id) is already being run by another process") }
        guard let run = try run(id) else { throw StoreError(description: "run \(id) is not in the run store (\(path))") }
        guard run.status == .queued else {
            throw StoreError(description: "run \(id) is \(run.status.rawValue), not queued: another controller took it over"
                             + (run.message.map { " (\($0))" } ?? "") + "; it is not run again here")
        }
        return lock
    }

    /// True while some process (this one included) holds run `id`.
    public func isRunOwned(_ id: Int64) throws(StoreError) -> Bool {
        do { return try database.isLocked(.run(id)) } catch {
            throw StoreError(description: "cannot tell whether run \(id) is being run (\(path)): \(error)")
        }
    }

    /// Takes `name` at once, or nil when another holder has it.
    public func tryLock(_ name: LockName) throws(StoreError) -> HeldLock? {
        do { return try database.tryLock(name) } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError(description: "cannot take the lock \(name.fileName) (\(path)): \(error)")
        }
    }

    /// Waits for `name`, polling so that cancelling the task (a superseded run, Ctrl-C) stops
    /// the wait. `waiting` is told once when another holder makes it wait.
    public func lock(_ name: LockName, waiting: () -> Void) async throws -> HeldLock {
        var told = false
        while true {
            if let lock = try tryLock(name) { return lock }
            if !told { waiting(); told = true }
            try await Task.sleep(for: .milliseconds(100))
        }
    }
}
