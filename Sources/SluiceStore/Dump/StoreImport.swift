import Foundation
public import SluiceCore
import GRDB

extension RunStore {
    /// What an import did.
    public struct Imported: Sendable {
        public var header: StoreDump.Header
        public var rows: [String: Int]
    }

    /// Builds a new run store from a dump's lines: in `database` (PostgreSQL; it must hold no
    /// store) when given, else in `stateDirectory` (which must hold none). The schema of the
    /// dump's migrations first, every row in one transaction, then the migrations this Sluice
    /// adds; a dump that fails leaves nothing behind. Stage log paths under the dump's state
    /// folder are moved under this one. `next` returns the next line, nil at the end.
    public static func importDump(into stateDirectory: String, database: DatabaseSettings? = nil, source: String,
                                  next: () throws -> String?) throws(StoreError) -> Imported {
        let location = database?.redacted ?? stateDirectory + "/" + fileName
        do {
            guard let first = try next() else { throw StoreError(description: "\(source) is empty: it holds no store export") }
            let header = try decodeHeader(first, source: source)
            let schema = try DumpSchema(upTo: header.migrations.last)
            func insertAll(_ db: any StoreTransaction, _ dialect: StoreDialect) throws -> [String: Int] {
                let inserter = RowInserter(db: db, dialect: dialect, schema: schema, source: source, from: header.stateDirectory, to: stateDirectory)
                var counts: [String: Int] = [:]
                var number = 1
                while let line = try next() {
                    number += 1
                    if line.isEmpty { continue }
                    counts[try inserter.add(line, number: number), default: 0] += 1
                }
                try inserter.flush()
                return counts
            }
            let rows: [String: Int]
            if let database {
                rows = try PostgresStoreDatabase.build(settings: database, upTo: header.migrations.last) { try insertAll($0, .postgres) }
                _ = try PostgresStoreDatabase(settings: database)  // this Sluice's newer migrations
            } else {
                rows = try SQLiteStoreDatabase.build(path: location, stateDirectory: stateDirectory, upTo: header.migrations.last) { try insertAll($0, .sqlite) }
            }
            return Imported(header: header, rows: rows)
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError(description: "import into \(location) failed: \(error)")
        }
    }

    static func decodeHeader(_ line: String, source: String) throws -> StoreDump.Header {
        let header: StoreDump.Header
        do { header = try JSONDecoder().decode(StoreDump.Header.self, from: Data(line.utf8)) } catch {
            throw StoreError(description: "\(source):1: not a Sluice store export (its first line is no header: \(error))")
        }
        guard header.format == StoreDump.format, header.version == StoreDump.formatVersion else {
            throw StoreError(description: "\(source):1: a '\(header.format)' export of version \(header.version); this Sluice reads '\(StoreDump.format)' version \(StoreDump.formatVersion)")
        }
        let known = StoreSchema.sqlite.migrations
        guard header.migrations.count <= known.count, Array(known.prefix(header.migrations.count)) == header.migrations else {
            throw StoreError(description: "\(source):1: the export's schema (\(header.migrations.last ?? "none")) is not one this Sluice knows (its last is \(known.last ?? "none")): import it with the Sluice that exported it, or a newer one")
        }
        return header
    }
}

/// Inserts a dump's rows, each value decoded as its column's declared type, a table's rows
/// several to a statement (one round trip to PostgreSQL for many rows). A statement that fails is
/// undone to its savepoint and its rows are inserted one by one, so the error names the line.
private final class RowInserter {
    let db: any StoreTransaction
    let dialect: StoreDialect
    let schema: DumpSchema
    let source: String
    let from: String
    let to: String
    let decoder: JSONDecoder
    /// Rows waiting for their statement: one table, the same columns.
    private var pending: (table: String, columns: [String], rows: [(values: [DatabaseValue], line: Int)])?
    /// Values per statement (SQLite's oldest limit on bound values is 999).
    static let valuesPerStatement = 999

    init(db: any StoreTransaction, dialect: StoreDialect, schema: DumpSchema, source: String, from: String, to: String) {
        (self.db, self.dialect, self.schema, self.source, self.from, self.to) = (db, dialect, schema, source, from, to)
        var tables: [String: [String: DumpSchema.Kind]] = [:]
        for table in schema.tables { tables[table.name] = Dictionary(uniqueKeysWithValues: table.columns.map { ($0.name, $0.kind) }) }
        tables["sqlite_sequence"] = ["name": .text, "seq": .integer]
        decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        decoder.userInfo[DumpLine.schemaKey] = tables
    }

    /// Takes line `number`; returns its row's table.
    func add(_ line: String, number: Int) throws -> String {
        let row: DumpLine
        do { row = try decoder.decode(DumpLine.self, from: Data(line.utf8)) } catch let error as DumpLine.Problem {
            throw RunStore.StoreError(description: "\(source):\(number): \(error.message)")
        } catch {
            throw RunStore.StoreError(description: "\(source):\(number): not a row of a store export (\(error)); the export was cut or edited")
        }
        if row.table == "sqlite_sequence" {
            try flush()
            let values = Dictionary(row.values, uniquingKeysWith: { first, _ in first })
            guard case .string(let name)? = values["name"]?.storage, case .int64(let last)? = values["seq"]?.storage, let table = schema.table(name) else {
                throw RunStore.StoreError(description: "\(source):\(number): a sequence of no table of this store's schema")
            }
            try dialect.setSequence(db, table: table, last: last)
            return row.table
        }
        let columns = row.values.map(\.0)
        let values = row.values.map { column, value in
            if row.table == "stage_results", column == "logPath", case .string(let text) = value.storage, text.hasPrefix(from + "/") {
                return (to + text.dropFirst(from.count)).databaseValue
            }
            return value
        }
        if let batch = pending, batch.table != row.table || batch.columns != columns
            || (batch.rows.count + 1) * columns.count > Self.valuesPerStatement {
            try flush()
        }
        if pending == nil { pending = (row.table, columns, []) }
        pending?.rows.append((values, number))
        return row.table
    }

    /// Inserts the rows waiting.
    func flush() throws {
        guard let batch = pending else { return }
        pending = nil
        guard batch.rows.count > 1 else {
            try insert(batch.table, batch.columns, batch.rows)
            return
        }
        try db.execute("SAVEPOINT sluice_import")
        do {
            try insert(batch.table, batch.columns, batch.rows)
            try db.execute("RELEASE SAVEPOINT sluice_import")
        } catch {
            try db.execute("ROLLBACK TO SAVEPOINT sluice_import")
            try db.execute("RELEASE SAVEPOINT sluice_import")
            for row in batch.rows { try insert(batch.table, batch.columns, [row]) }
            throw error
        }
    }

    private func insert(_ table: String, _ columns: [String], _ rows: [(values: [DatabaseValue], line: Int)]) throws {
        let tuple = "(" + placeholders(columns.count) + ")"
        let sql = "INSERT INTO \(table) (\(columns.map(quoted).joined(separator: ", "))) VALUES "
            + Array(repeating: tuple, count: rows.count).joined(separator: ", ")
        do {
            try db.execute(sql, SQLArguments(rows.flatMap(\.values)))
        } catch {
            let lines = rows.count == 1 ? "\(rows[0].line)" : "\(rows[0].line)-\(rows[rows.count - 1].line)"
            throw RunStore.StoreError(description: "\(source):\(lines): the \(table) row\(rows.count == 1 ? " was" : "s were") refused: \(error)")
        }
    }
}

/// One line of a dump, decoded with the destination's schema (`userInfo[schemaKey]`): every value
/// as its column's declared type, so reals keep every digit and text stays text.
private struct DumpLine: Decodable {
    static let schemaKey = CodingUserInfoKey(rawValue: "sluice.store.schema")!

    struct Problem: Error { var message: String }

    struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(_ string: String) { stringValue = string }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    private struct Blob: Decodable { var base64: String }

    var table: String
    var values: [(String, DatabaseValue)] = []

    init(from decoder: any Decoder) throws {
        let line = try decoder.container(keyedBy: Key.self)
        table = try line.decode(String.self, forKey: Key("table"))
        guard let schema = decoder.userInfo[Self.schemaKey] as? [String: [String: DumpSchema.Kind]] else { throw Problem(message: "no schema to read the row with") }
        guard let columns = schema[table] else { throw Problem(message: "the table '\(table)' is not in this store's schema") }
        let row = try line.nestedContainer(keyedBy: Key.self, forKey: Key("row"))
        for key in row.allKeys.sorted(by: { $0.stringValue < $1.stringValue }) {
            guard let kind = columns[key.stringValue] else { throw Problem(message: "the table '\(table)' has no column '\(key.stringValue)' here") }
            if try row.decodeNil(forKey: key) {
                values.append((key.stringValue, .null))
                continue
            }
            let value: DatabaseValue
            switch kind {
            case .integer: value = try row.decode(Int64.self, forKey: key).databaseValue
            case .real: value = try row.decode(Double.self, forKey: key).databaseValue
            case .text: value = try row.decode(String.self, forKey: key).databaseValue
            case .blob:
                guard let data = Data(base64Encoded: try row.decode(Blob.self, forKey: key).base64) else {
                    throw Problem(message: "\(table).\(key.stringValue): a blob that is not base64")
                }
                value = data.databaseValue
            }
            values.append((key.stringValue, value))
        }
    }
}
