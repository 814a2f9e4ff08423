import FoundationEssentials

/// The last commit processed on each tracked ref of a repository. In the store (not the state
/// folder) so that a replica taking over from a dead leader knows which heads were already run.
extension RunStore {
    /// The repository's processed refs: ref → commit.
    public func processedRefs(repository: String) throws(StoreError) -> [String: String] {
        try read { db in try Self.processedRefs(db, repository: repository) }
    }

    /// Records that `commit` on `ref` was processed and returns the repository's processed refs
    /// as they now are (with what other processes recorded meanwhile). A replica whose leadership
    /// term is over records nothing (it throws why): the replica that leads runs the head again.
    @discardableResult
    public func recordProcessed(repository: String, ref: String, commit: String, at time: Double) throws(StoreError) -> [String: String] {
        let fence = fence.withLock { $0 }
        return try write { db in
            if let refusal = try Self.fenceRefusal(fence, act: "recording \(ref) at \(commit.prefix(12)) as processed", db) {
                throw StoreError(description: refusal)
            }
            try Self.recordProcessed(db, repository: repository, ref: ref, commit: commit, at: time)
            return try Self.processedRefs(db, repository: repository)
        }
    }

    /// Adds refs recorded elsewhere (a state folder's file from before the store held them)
    /// without replacing any the store already has.
    public func importProcessed(_ refs: [String: String], repository: String, at time: Double) throws(StoreError) {
        try write { db in
            for (ref, commit) in refs.sorted(by: { $0.key < $1.key }) {
                try db.execute("""
                    INSERT INTO processed_refs (repository, ref, "commit", processedAt) VALUES (?, ?, ?, ?)
                    ON CONFLICT (repository, ref) DO NOTHING
                    """, [repository, ref, commit, time])
            }
        }
    }

    static func recordProcessed(_ db: any StoreTransaction, repository: String, ref: String, commit: String, at time: Double) throws {
        try db.execute("""
            INSERT INTO processed_refs (repository, ref, "commit", processedAt) VALUES (?, ?, ?, ?)
            ON CONFLICT (repository, ref) DO UPDATE SET "commit" = excluded."commit", processedAt = excluded.processedAt
            """, [repository, ref, commit, time])
    }

    private static func processedRefs(_ db: any StoreTransaction, repository: String) throws -> [String: String] {
        var result: [String: String] = [:]
        for row in try db.rows("SELECT ref, \"commit\" FROM processed_refs WHERE repository = ? ORDER BY ref", [repository]) {
            result[row["ref"]] = row["commit"]
        }
        return result
    }
}
