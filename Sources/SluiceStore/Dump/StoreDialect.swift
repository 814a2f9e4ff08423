import GRDB

/// What SQLite and PostgreSQL spell their own ways when a store is exported or imported: where
/// the applied migrations are named, and the sequences that give ids. An export names a table's
/// sequence as SQLite does (a `sqlite_sequence` row: the table and the last id given), so a dump
/// reads the same whichever database wrote it.
enum StoreDialect: Sendable {
    case sqlite, postgres

    /// The applied migrations, in order.
    func migrations(_ db: any StoreTransaction) throws -> [String] {
        switch self {
        case .sqlite: return try db.values(String.self, "SELECT identifier FROM grdb_migrations ORDER BY rowid")
        case .postgres: return try db.values(String.self, "SELECT identifier FROM sluice_migrations ORDER BY position")
        }
    }

    /// The last id each sequenced table gave, by table name; a table that never gave one is not listed.
    func sequences(_ db: any StoreTransaction, of tables: [DumpSchema.Table]) throws -> [(table: String, last: Int64)] {
        switch self {
        case .sqlite:
            return try db.rows("SELECT name, seq FROM sqlite_sequence ORDER BY name").map { ($0["name"], $0["seq"]) }
        case .postgres:
            var result: [(table: String, last: Int64)] = []
            for table in tables where table.sequenced {
                guard let column = table.key.first,
                      let sequence = try db.value(String.self, "SELECT pg_get_serial_sequence(?, ?)", [table.name, column.lowercased()]),
                      let row = try db.rows("SELECT last_value, is_called FROM \(sequence)").first, (row["is_called"] as Int64) != 0 else { continue }
                result.append((table.name, row["last_value"]))
            }
            return result.sorted { $0.table < $1.table }
        }
    }

    /// Sets `table`'s sequence so that its next id follows `last` (the export's, which may be
    /// past the largest id left: a deleted row's id is never given again).
    func setSequence(_ db: any StoreTransaction, table: DumpSchema.Table, last: Int64) throws {
        switch self {
        case .sqlite:
            // The inserts made their own entry; the export's wins.
            try db.execute("DELETE FROM sqlite_sequence WHERE name = ?", [table.name])
            try db.execute("INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)", [table.name, last])
        case .postgres:
            guard let column = table.key.first else { return }
            try db.execute("SELECT setval(pg_get_serial_sequence(?, ?), ?)", [table.name, column.lowercased(), last])
        }
    }
}
