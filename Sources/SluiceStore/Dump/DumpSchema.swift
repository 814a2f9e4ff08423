import GRDB

/// The store's tables as an export names them, whichever database holds the store: the SQLite
/// schema of a given version (built in memory), whose column names are the canonical ones
/// (PostgreSQL folds them to lower case) and whose declared types say how a dump's numbers read.
/// `StoreSchemaTests` keeps the PostgreSQL schema equal to it.
struct DumpSchema {
    struct Table {
        var name: String
        /// Columns in declaration order, with how their values are read.
        var columns: [(name: String, kind: Kind)]
        /// The primary key's columns, in key order: rows are exported in this order on both databases.
        var key: [String]
        /// Ids come from a sequence (`AUTOINCREMENT` on SQLite, an identity on PostgreSQL).
        var sequenced: Bool
    }

    enum Kind: Sendable {
        case integer, real, text, blob

        /// SQLite's affinity rules, by the declared type's name.
        init(declared: String) {
            let type = declared.uppercased()
            if type.contains("INT") || type.contains("BOOL") {
                self = .integer
            } else if type.contains("CHAR") || type.contains("CLOB") || type.contains("TEXT") {
                self = .text
            } else if type.contains("REAL") || type.contains("FLOA") || type.contains("DOUB") {
                self = .real
            } else {
                self = .blob
            }
        }
    }

    /// Parents before children (the order rows are inserted in).
    var tables: [Table]

    /// The schema after `migration` (nil: every migration this Sluice knows).
    init(upTo migration: String?) throws {
        let queue = try DatabaseQueue()
        if let migration { try StoreSchema.sqlite.migrate(queue, upTo: migration) } else { try StoreSchema.sqlite.migrate(queue) }
        tables = try queue.read { db in
            try Self.ordered(db).map { name in
                let info = try Row.fetchAll(db, sql: "SELECT name, type, pk FROM pragma_table_info(?) ORDER BY cid", arguments: [name])
                let sql = try String.fetchOne(db, sql: "SELECT sql FROM sqlite_master WHERE name = ?", arguments: [name]) ?? ""
                return Table(name: name, columns: info.map { ($0["name"], Kind(declared: $0["type"])) },
                             key: info.filter { ($0["pk"] as Int) > 0 }.sorted { ($0["pk"] as Int) < ($1["pk"] as Int) }.map { $0["name"] },
                             sequenced: sql.uppercased().contains("AUTOINCREMENT"))
            }
        }
    }

    func table(_ name: String) -> Table? { tables.first { $0.name == name } }

    /// The tables in the order an import inserts them: a child after the table its foreign key names.
    private static func ordered(_ db: Database) throws -> [String] {
        let names = try String.fetchAll(db, sql: """
            SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name != 'grdb_migrations' ORDER BY name
            """)
        var ordered: [String] = []
        var pending = names
        while !pending.isEmpty {
            let before = pending.count
            for name in pending {
                let parents = try Row.fetchAll(db, sql: "SELECT \"table\" FROM pragma_foreign_key_list(?)", arguments: [name]).map { $0["table"] as String }
                if parents.allSatisfy({ $0 == name || ordered.contains($0) }) { ordered.append(name) }
            }
            pending.removeAll { ordered.contains($0) }
            if pending.count == before { ordered += pending; break }  // a cycle: the database says which row fails
        }
        return ordered
    }
}
