import Foundation
import GRDB

extension RunStore {
    /// What an import did.
    public struct Imported: Sendable {
        public var header: StoreDump.Header
        public var rows: [String: Int]
    }

    /// Builds a new run store in `stateDirectory` (which must hold none) from a dump's lines:
    /// the schema of the dump's migrations first, every row in one transaction (foreign keys
    /// checked at its end), then the migrations this Sluice adds. Stage log paths under the
    /// dump's state folder are moved under this one. `next` returns the next line, nil at the end.
    public static func importDump(into stateDirectory: String, source: String,
                                  next: () throws -> String?) throws(StoreError) -> Imported {
        let path = stateDirectory + "/" + fileName
        do {
            try FileManager.default.createDirectory(atPath: stateDirectory, withIntermediateDirectories: true)
            let lock = try MigrationLock(stateDirectory: stateDirectory)
            defer { withExtendedLifetime(lock) {} }
            guard !FileManager.default.fileExists(atPath: path) else {
                throw StoreError(description: "\(path) exists: an import builds a new store; choose an empty state folder (--state)")
            }
            guard let first = try next() else { throw StoreError(description: "\(source) is empty: it holds no store export") }
            let header = try decodeHeader(first, source: source)
            let pool = try DatabasePool(path: path)
            do {
                if let last = header.migrations.last { try StoreSchema.sqlite.migrate(pool, upTo: last) }
                var counts: [String: Int] = [:]
                try pool.write { db in
                    try db.execute(sql: "PRAGMA defer_foreign_keys = ON")
                    let inserter = try RowInserter(db: db, source: source, from: header.stateDirectory, to: stateDirectory)
                    var number = 1
                    while let line = try next() {
                        number += 1
                        if line.isEmpty { continue }
                        let table = try inserter.insert(line, number: number)
                        counts[table, default: 0] += 1
                    }
                }
                try StoreSchema.sqlite.migrate(pool)
                return Imported(header: header, rows: counts)
            } catch {
                // Nothing half-built stays behind: the next import (or start) finds an empty folder.
                try pool.close()
                for suffix in ["", "-wal", "-shm"] { unlink(path + suffix) }
                throw error
            }
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError(description: "import into \(path) failed: \(error)")
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

/// Inserts one dump line's row, each value decoded as its column's declared type.
private struct RowInserter {
    let db: Database
    let source: String
    let from: String
    let to: String
    let decoder: JSONDecoder

    init(db: Database, source: String, from: String, to: String) throws {
        self.db = db
        self.source = source
        self.from = from
        self.to = to
        var tables: [String: [String: DumpLine.Kind]] = [:]
        for table in try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table'") {
            var columns: [String: DumpLine.Kind] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT name, type FROM pragma_table_info(?)", arguments: [table]) {
                columns[row["name"]] = DumpLine.Kind(declared: row["type"])
            }
            tables[table] = columns
        }
        // SQLite's own table declares no types.
        tables["sqlite_sequence"] = ["name": .text, "seq": .integer]
        decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        decoder.userInfo[DumpLine.schemaKey] = tables
    }

    /// Returns the row's table.
    func insert(_ line: String, number: Int) throws -> String {
        let row: DumpLine
        do { row = try decoder.decode(DumpLine.self, from: Data(line.utf8)) } catch let error as DumpLine.Problem {
            throw RunStore.StoreError(description: "\(source):\(number): \(error.message)")
        } catch {
            throw RunStore.StoreError(description: "\(source):\(number): not a row of a store export (\(error)); the export was cut or edited")
        }
        var names: [String] = []
        var values: [DatabaseValue] = []
        for (column, value) in row.values {
            names.append(column.quotedDatabaseIdentifier)
            if row.table == "stage_results", column == "logPath", case .string(let text) = value.storage, text.hasPrefix(from + "/") {
                values.append((to + text.dropFirst(from.count)).databaseValue)
            } else {
                values.append(value)
            }
        }
        if row.table == "sqlite_sequence", let name = row.values.first(where: { $0.0 == "name" })?.1 {
            // The inserts above made their own entries; the export's (ids may have been used and deleted) wins.
            try db.execute(sql: "DELETE FROM sqlite_sequence WHERE name = ?", arguments: [name])
        }
        let marks = Array(repeating: "?", count: values.count).joined(separator: ", ")
        try db.execute(sql: "INSERT INTO \(row.table.quotedDatabaseIdentifier) (\(names.joined(separator: ", "))) VALUES (\(marks))",
                       arguments: StatementArguments(values))
        return row.table
    }
}

/// One line of a dump, decoded with the destination's schema (`userInfo[schemaKey]`): every value
/// as its column's declared type, so reals keep every digit and text stays text.
private struct DumpLine: Decodable {
    static let schemaKey = CodingUserInfoKey(rawValue: "sluice.store.schema")!

    enum Kind: Sendable {
        case integer, real, text, blob

        /// SQLite's affinity rules, by the declared type's name.
        init(declared: String) {
            let type = declared.uppercased()
            if type.contains("INT") || type.contains("BOOL") { self = .integer } else if type.contains("CHAR") || type.contains("CLOB") || type.contains("TEXT") {
                self = .text
            } else if type.contains("REAL") || type.contains("FLOA") || type.contains("DOUB") { self = .real } else { self = .blob }
        }
    }

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
        guard let schema = decoder.userInfo[Self.schemaKey] as? [String: [String: Kind]] else { throw Problem(message: "no schema to read the row with") }
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
