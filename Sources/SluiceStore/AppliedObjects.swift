import GRDB

/// What Sluice last applied to each object of an inventory: the hash of the body it sent and
/// the resourceVersion the server answered with. While both still hold, the object is as
/// Sluice left it, and a deploy or drift check skips its dry run.
extension RunStore {
    public struct Applied: Hashable, Sendable {
        public var hash: String
        public var resourceVersion: String
        public init(hash: String, resourceVersion: String) {
            self.hash = hash
            self.resourceVersion = resourceVersion
        }
    }

    public func applied(_ scope: InventoryScope) throws(StoreError) -> [InventoryItem: Applied] {
        try read { db in
            var result: [InventoryItem: Applied] = [:]
            for row in try db.rows("""
                SELECT apiVersion, kind, namespace, name, appliedHash, resourceVersion FROM deploy_inventory
                WHERE repository = ? AND cluster = ? AND environment = ? AND appliedHash IS NOT NULL AND resourceVersion IS NOT NULL
                """, [scope.repository, scope.cluster, scope.environment]) {
                let item = InventoryItem(apiVersion: row["apiVersion"], kind: row["kind"], namespace: row["namespace"], name: row["name"])
                result[item] = Applied(hash: row["appliedHash"], resourceVersion: row["resourceVersion"])
            }
            return result
        }
    }

    /// Records what was applied to objects already in the scope's inventory (`setInventory` first).
    public func recordApplied(_ applied: [InventoryItem: Applied], _ scope: InventoryScope) throws(StoreError) {
        try write { db in
            for (item, state) in applied {
                try db.execute("""
                    UPDATE deploy_inventory SET appliedHash = ?, resourceVersion = ?
                    WHERE repository = ? AND cluster = ? AND environment = ? AND apiVersion = ? AND kind = ? AND namespace = ? AND name = ?
                    """, [state.hash, state.resourceVersion, scope.repository, scope.cluster, scope.environment,
                                     item.apiVersion, item.kind, item.namespace, item.name])
            }
        }
    }
}
