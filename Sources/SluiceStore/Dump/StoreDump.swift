import FoundationEssentials
import GRDB

/// The run store as JSON lines (`sluice store export` / `import`): a header, then one line per
/// row of every table, parents before children, each table's rows in primary-key order, every
/// column by its name in the SQLite schema with its stored value, then the last id each
/// sequence gave (as `sqlite_sequence` rows). The same store gives the same lines from SQLite
/// or PostgreSQL, and either imports into either. Read in one transaction, so the dump is one
/// consistent moment of a live store. What is not in it: the artifact blobs (`cas/`, or the
/// bucket) and the stage logs (`logs/`), which are files; `import --from` copies both.
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
}

extension RunStore {
    /// Writes the whole store to `emit`, one JSON line at a time, from one read transaction (on
    /// SQLite or PostgreSQL alike): each table's rows in primary-key order, a page at a time.
    public func export(_ emit: (String) throws -> Void) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Reals may be infinite; JSON has no number for them.
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        func line(_ table: String, _ values: [String: StoreDump.Value]) throws {
            try emit(String(decoding: try encoder.encode(StoreDump.Line(table: table, row: values)), as: UTF8.self))
        }
        let dialect = database.dialect
        try database.read { db in
            let migrations = try dialect.migrations(db)
            let header = StoreDump.Header(format: StoreDump.format, version: StoreDump.formatVersion, migrations: migrations, stateDirectory: stateDirectory)
            try emit(String(decoding: try encoder.encode(header), as: UTF8.self))
            let schema = try DumpSchema(upTo: migrations.last)
            for table in schema.tables {
                try StoreDump.pages(of: table, db) { row in
                    var values: [String: StoreDump.Value] = [:]
                    for column in table.columns { values[column.name] = StoreDump.Value(row[column.name] as DatabaseValue) }
                    try line(table.name, values)
                }
            }
            for sequence in try dialect.sequences(db, of: schema.tables) {
                try line("sqlite_sequence", ["name": .text(sequence.table), "seq": .integer(sequence.last)])
            }
        }
    }
}

extension StoreDump {
    static let pageSize = 500

    /// Every row of `table`, in primary-key order, read a page at a time (keyset: each page starts
    /// after the last key of the one before), so a large table is never held whole.
    static func pages(of table: DumpSchema.Table, _ db: any StoreTransaction, _ each: (Row) throws -> Void) throws {
        let columns = table.columns.map { quoted($0.name) }.joined(separator: ", ")
        let key = table.key.map(quoted).joined(separator: ", ")
        var after: [DatabaseValue]?
        while true {
            var sql = "SELECT \(columns) FROM \(table.name)"
            if after != nil { sql += " WHERE (\(key)) > (\(placeholders(table.key.count)))" }
            sql += " ORDER BY \(key) LIMIT \(pageSize)"
            let rows = try db.rows(sql, SQLArguments(after ?? []))
            for row in rows { try each(row) }
            guard rows.count == pageSize, let last = rows.last else { return }
            after = table.key.map { last[$0] as DatabaseValue }
        }
    }
}
