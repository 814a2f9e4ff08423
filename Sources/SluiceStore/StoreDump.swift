import FoundationEssentials
import GRDB

/// The run store as JSON lines (`sluice store export` / `import`): a header, then one line per
/// row of every table, parents before children, each table in its rows' order, every column by
/// name with its stored value. Read in one transaction, so the dump is one consistent moment of
/// a live store. What is not in it: the artifact blobs (`cas/`, or the bucket) and the stage
/// logs (`logs/`), which are files; `import --from` copies both.
public enum StoreDump {
    public static let format = "sluice-store"
    public static let formatVersion = 1

    /// The first line.
    public struct Header: Codable, Sendable, Equatable {
        public var format: String
        public var version: Int
        /// The store's applied migrations, in order: an import builds the same schema first.
        public var migrations: [String]
        /// The state folder it came from (stage log paths start with it).
        public var stateDirectory: String
    }

    /// One row: its table and its columns' values.
    struct Line: Encodable {
        var table: String
        var row: [String: Value]
    }

    /// A stored value as JSON: integers and reals as numbers, text as strings, blobs as
    /// `{"base64": …}`, NULL as null. An import reads a number as its column's declared type.
    enum Value: Encodable, Equatable {
        case integer(Int64), real(Double), text(String), blob([UInt8]), null

        init(_ value: DatabaseValue) {
            switch value.storage {
            case .int64(let v): self = .integer(v)
            case .double(let v): self = .real(v)
            case .string(let v): self = .text(v)
            case .blob(let v): self = .blob(Array(v))
            case .null: self = .null
            }
        }

        private struct Blob: Encodable { var base64: String }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.singleValueContainer()
            switch self {
            case .integer(let v): try c.encode(v)
            case .real(let v): try c.encode(v)
            case .text(let v): try c.encode(v)
            case .blob(let v): try c.encode(Blob(base64: Data(v).base64EncodedString()))
            case .null: try c.encodeNil()
            }
        }
    }

    /// The store's tables in the order an import inserts them (a child after the table its
    /// foreign key names), then `sqlite_sequence`, so run ids continue where they were.
    static func tables(_ db: Database) throws -> [String] {
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
            if pending.count == before { ordered += pending; break }  // a cycle: constraints are checked at commit anyway
        }
        let hasSequence = try Bool.fetchOne(db, sql: "SELECT count(*) > 0 FROM sqlite_master WHERE name = 'sqlite_sequence'") ?? false
        return ordered + (hasSequence ? ["sqlite_sequence"] : [])
    }
}

extension RunStore {
    /// Writes the whole store to `emit`, one JSON line at a time, from one read transaction.
    public func export(_ emit: (String) throws -> Void) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // SQLite keeps infinities in REAL columns; JSON has no number for them.
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        guard let sqlite = database as? SQLiteStoreDatabase else {
            throw StoreError(description: "sluice store export reads a SQLite run store; \(path) is a PostgreSQL database: back it up with pg_dump")
        }
        try sqlite.pool.read { db in
            let migrations = try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations ORDER BY rowid")
            let header = StoreDump.Header(format: StoreDump.format, version: StoreDump.formatVersion, migrations: migrations, stateDirectory: stateDirectory)
            try emit(String(decoding: try encoder.encode(header), as: UTF8.self))
            for table in try StoreDump.tables(db) {
                let order = table == "sqlite_sequence" ? "name" : "rowid"
                let rows = try Row.fetchCursor(db, sql: "SELECT * FROM \(table.quotedDatabaseIdentifier) ORDER BY \(order)")
                while let row = try rows.next() {
                    var values: [String: StoreDump.Value] = [:]
                    for (column, value) in row { values[column] = StoreDump.Value(value) }
                    try emit(String(decoding: try encoder.encode(StoreDump.Line(table: table, row: values)), as: UTF8.self))
                }
            }
        }
    }
}
