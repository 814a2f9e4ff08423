import GRDB

/// Approvals of merge-request head commits from forks: who let which commit run, and when.
/// Kept per commit, so a later push needs a new approval.
extension RunStore {
    public struct Approval: Sendable, Hashable, Codable {
        public var repository: String
        public var ref: String
        public var commit: String
        public var approvedBy: String
        public var approvedAt: Double
    }

    /// Records that `commit` on `ref` may run (approving twice keeps the first approval).
    public func approve(repository: String, ref: String, commit: String, by actor: String, at time: Double) throws(StoreError) {
        try write { db in
            try db.execute("""
                INSERT INTO approvals (repository, ref, "commit", approvedBy, approvedAt) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING
                """, [repository, ref, commit, actor, time])
        }
    }

    public func approval(repository: String, ref: String, commit: String) throws(StoreError) -> Approval? {
        try read { db in
            try db.rows("SELECT * FROM approvals WHERE repository = ? AND ref = ? AND \"commit\" = ?", [repository, ref, commit]).first.map {
                Approval(repository: $0["repository"], ref: $0["ref"], commit: $0["commit"], approvedBy: $0["approvedBy"], approvedAt: $0["approvedAt"])
            }
        }
    }
}
