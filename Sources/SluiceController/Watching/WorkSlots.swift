/// At most `limit` holders at a time across every repository a controller watches, served in
/// the order they asked: however many repositories there are, the controller runs a bounded
/// number of fetches and pipelines at once (so its memory does not grow with the repository
/// count), and no repository waits behind others that asked later.
public actor WorkSlots {
    public nonisolated let limit: Int
    /// What the slots are for, as the `kind` label of `sluice_slots_in_use` and `_waiting`.
    public nonisolated let kind: String
    private var inUse = 0
    private var waiting: [(id: UInt64, resume: CheckedContinuation<Bool, Never>)] = []
    private var head = 0
    private var nextID: UInt64 = 0

    public init(limit: Int, kind: String) {
        self.limit = max(1, limit)
        self.kind = kind
    }

    /// Waits for a slot; false when the task was cancelled while waiting (then it holds none).
    public func acquire() async -> Bool {
        if Task.isCancelled { return false }
        if inUse < limit, head == waiting.count {
            inUse += 1
            report()
            return true
        }
        nextID += 1
        let id = nextID
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                waiting.append((id, continuation))
                report()
            }
        } onCancel: {
            Task { await self.cancel(id) }
        }
    }

    /// Gives a slot back: the longest waiter gets it.
    public func release() {
        guard head < waiting.count else {
            inUse -= 1
            report()
            return
        }
        let next = waiting[head]
        head += 1
        compact()
        report()
        next.resume.resume(returning: true)  // the slot passes on: inUse stays
    }

    private func report() { ControllerMetrics.slots(kind: kind, inUse: inUse, waiting: waiting.count - head) }

    /// Holders now, and tasks waiting.
    public var usage: (inUse: Int, waiting: Int) { (inUse, waiting.count - head) }

    private func cancel(_ id: UInt64) {
        guard let index = waiting[head...].firstIndex(where: { $0.id == id }) else { return }  // already resumed
        let cancelled = waiting.remove(at: index)
        report()
        cancelled.resume.resume(returning: false)
    }

    /// Drops the served front of the queue now and then, so it does not grow for ever.
    private func compact() {
        if head > 64, head * 2 > waiting.count {
            waiting.removeFirst(head)
            head = 0
        }
    }
}

extension WorkSlots {
    /// Runs `body` holding a slot; nil when cancelled while waiting for one.
    public nonisolated func run<T: Sendable>(_ body: @Sendable () async throws -> T) async rethrows -> T? {
        guard await acquire() else { return nil }
        do {
            let result = try await body()
            await release()
            return result
        } catch {
            await release()
            throw error
        }
    }
}

/// What all of a controller's watchers share.
public struct ControllerSlots: Sendable {
    /// Fetches (and mirror creation) in progress at once.
    public let fetches: WorkSlots
    /// Pipelines (production and merge requests) running at once.
    public let runs: WorkSlots

    public init(fetches: Int, runs: Int) {
        self.fetches = WorkSlots(limit: fetches, kind: "fetch")
        self.runs = WorkSlots(limit: runs, kind: "run")
    }
}
