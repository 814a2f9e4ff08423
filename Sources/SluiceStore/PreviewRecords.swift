import GRDB

/// Merge-request previews: what Sluice applied for which merge request, where, and since when,
/// so the reconciler can delete it when the merge request closes or its time is up, and a
/// restart knows about previews an interrupted process was deploying.
extension RunStore {
    public struct Preview: Sendable, Hashable, Codable {
        public enum State: String, Sendable, Codable {
            /// Being applied (a process that stopped meanwhile left it so: deleted and redone).
            case deploying
            /// Applied and its checks passed.
            case ready
            /// Applied, but unhealthy or a check did not pass (it stays for the reviewer to look at).
            case failed
        }

        public var repository: String
        public var number: Int
        public var ref: String
        public var commit: String
        public var runId: Int64?
        /// `kubernetes` or `branch`.
        public var target: String
        /// The namespace, or the branch.
        public var place: String
        /// The kubeconfig context of a namespace (nil: the current one).
        public var context: String?
        /// The environment whose settings it copies.
        public var environment: String
        public var state: State
        /// Each check's result, or why it failed, in words.
        public var detail: String
        public var createdAt: Double
        /// The last push deployed.
        public var updatedAt: Double
        /// `updatedAt` + the ttl: the reconciler deletes it from then on.
        public var expiresAt: Double

        public init(repository: String, number: Int, ref: String, commit: String, runId: Int64?, target: String, place: String, context: String?,
                    environment: String, state: State, detail: String, createdAt: Double, updatedAt: Double, expiresAt: Double) {
            (self.repository, self.number, self.ref, self.commit, self.runId) = (repository, number, ref, commit, runId)
            (self.target, self.place, self.context, self.environment, self.state, self.detail) = (target, place, context, environment, state, detail)
            (self.createdAt, self.updatedAt, self.expiresAt) = (createdAt, updatedAt, expiresAt)
        }

        /// The inventory scope's environment name: each preview's objects are an inventory of their own.
        public static func scope(number: Int) -> String { "preview-\(number)" }
    }

    public func savePreview(_ p: Preview) throws(StoreError) {
        try write { db in
            try db.execute("""
                INSERT INTO previews (repository, number, ref, "commit", runId, target, place, context, environment, state, detail,
                                      createdAt, updatedAt, expiresAt)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (repository, number) DO UPDATE SET ref = excluded.ref, "commit" = excluded."commit", runId = excluded.runId,
                  target = excluded.target, place = excluded.place, context = excluded.context, environment = excluded.environment,
                  state = excluded.state, detail = excluded.detail, createdAt = excluded.createdAt, updatedAt = excluded.updatedAt,
                  expiresAt = excluded.expiresAt
                """, [p.repository, p.number, p.ref, p.commit, p.runId, p.target, p.place, p.context, p.environment, p.state.rawValue,
                                 p.detail, p.createdAt, p.updatedAt, p.expiresAt])
        }
    }

    /// A repository's previews, oldest push first.
    public func previews(repository: String) throws(StoreError) -> [Preview] {
        try read { db in
            try db.rows("SELECT * FROM previews WHERE repository = ? ORDER BY updatedAt, number", [repository]).map(Self.preview)
        }
    }

    public func preview(repository: String, number: Int) throws(StoreError) -> Preview? {
        try read { db in
            try db.rows("SELECT * FROM previews WHERE repository = ? AND number = ?", [repository, number]).first.map(Self.preview)
        }
    }

    public func deletePreview(repository: String, number: Int) throws(StoreError) {
        try write { db in try db.execute("DELETE FROM previews WHERE repository = ? AND number = ?", [repository, number]) }
    }

    private static func preview(_ row: Row) -> Preview {
        Preview(repository: row["repository"], number: row["number"], ref: row["ref"], commit: row["commit"], runId: row["runId"], target: row["target"],
                place: row["place"], context: row["context"], environment: row["environment"], state: Preview.State(rawValue: row["state"]) ?? .failed,
                detail: row["detail"], createdAt: row["createdAt"], updatedAt: row["updatedAt"], expiresAt: row["expiresAt"])
    }
}
