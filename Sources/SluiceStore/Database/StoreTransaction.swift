import GRDB

/// One transaction on the run store's database, SQLite or PostgreSQL.
///
/// The store's queries are written once, in the SQL both accept (`?` placeholders, `ON
/// CONFLICT`, `IS NOT DISTINCT FROM`, unquoted camelCase columns, which PostgreSQL folds to
/// lower case and SQLite compares without case). Rows come back as GRDB `Row`s on both, so a
/// record is decoded (and encoded, see `StoredRecord`) by the same Codable rules everywhere.
protocol StoreTransaction {
    /// The rows `sql` selects.
    func rows(_ sql: String, _ arguments: SQLArguments) throws -> [Row]
    /// The first column of each row `sql` selects, in order.
    func column(_ sql: String, _ arguments: SQLArguments) throws -> [DatabaseValue]
    /// Runs a statement; returns how many rows it inserted, changed or deleted.
    @discardableResult
    func execute(_ sql: String, _ arguments: SQLArguments) throws -> Int
}

/// The values of a statement's `?` placeholders, in order.
struct SQLArguments: ExpressibleByArrayLiteral, Sendable {
    var values: [DatabaseValue]

    init(_ values: [DatabaseValue]) { self.values = values }

    init(arrayLiteral elements: (any DatabaseValueConvertible)?...) {
        values = elements.map { $0?.databaseValue ?? .null }
    }

    init(_ elements: [(any DatabaseValueConvertible)?]) {
        values = elements.map { $0?.databaseValue ?? .null }
    }

    static func + (lhs: Self, rhs: Self) -> Self { Self(lhs.values + rhs.values) }
}

/// A record with a table of its own: what `insert`, `upsert` and `update` need to write it.
protocol StoredRecord: FetchableRecord, EncodableRecord {
    static var databaseTableName: String { get }
    /// The primary key's columns.
    static var primaryKey: [String] { get }
}

/// A record whose `id` the database gives on insert.
protocol IdentifiedRecord: StoredRecord {
    var id: Int64? { get set }
}

extension IdentifiedRecord {
    static var primaryKey: [String] { ["id"] }
}

/// Placeholders for `count` values: `?, ?, ?`.
func placeholders(_ count: Int) -> String {
    Array(repeating: "?", count: count).joined(separator: ", ")
}

extension StoreTransaction {
    func rows(_ sql: String) throws -> [Row] { try rows(sql, []) }

    @discardableResult
    func execute(_ sql: String) throws -> Int { try execute(sql, []) }

    func fetchAll<R: FetchableRecord>(_: R.Type, _ sql: String, _ arguments: SQLArguments = []) throws -> [R] {
        try rows(sql, arguments).map { try R(row: $0) }
    }

    func fetchOne<R: FetchableRecord>(_: R.Type, _ sql: String, _ arguments: SQLArguments = []) throws -> R? {
        try rows(sql, arguments).first.map { try R(row: $0) }
    }

    /// The non-NULL values of the first column.
    func values<V: DatabaseValueConvertible>(_: V.Type, _ sql: String, _ arguments: SQLArguments = []) throws -> [V] {
        try column(sql, arguments).compactMap { value in
            if value.isNull { return nil }
            guard let v = V.fromDatabaseValue(value) else { throw StoreValueError(sql: sql, value: value, type: "\(V.self)") }
            return v
        }
    }

    /// The first row's first column; nil when there is no row or it is NULL.
    func value<V: DatabaseValueConvertible>(_: V.Type, _ sql: String, _ arguments: SQLArguments = []) throws -> V? {
        guard let value = try column(sql, arguments).first, !value.isNull else { return nil }
        guard let v = V.fromDatabaseValue(value) else { throw StoreValueError(sql: sql, value: value, type: "\(V.self)") }
        return v
    }

    /// Inserts a record; `ignoringConflict` leaves a row with the same key as it is.
    func insert<R: StoredRecord>(_ record: R, ignoringConflict: Bool = false) throws {
        let columns = try record.databaseDictionary.sorted { $0.key < $1.key }
        try execute("""
            INSERT INTO \(R.databaseTableName) (\(columns.map { quoted($0.key) }.joined(separator: ", "))) VALUES (\(placeholders(columns.count)))\
            \(ignoringConflict ? " ON CONFLICT DO NOTHING" : "")
            """, SQLArguments(columns.map(\.value)))
    }

    /// Inserts a record and sets its `id` to the one the database gave it.
    func insert<R: IdentifiedRecord>(_ record: inout R) throws {
        let columns = try record.databaseDictionary.filter { $0.key != "id" || !$0.value.isNull }.sorted { $0.key < $1.key }
        let id = try value(Int64.self, """
            INSERT INTO \(R.databaseTableName) (\(columns.map { quoted($0.key) }.joined(separator: ", "))) VALUES (\(placeholders(columns.count))) RETURNING id
            """, SQLArguments(columns.map(\.value)))
        record.id = id
    }

    /// Inserts a record, or replaces the columns of the row with its key.
    func upsert<R: StoredRecord>(_ record: R) throws {
        let columns = try record.databaseDictionary.sorted { $0.key < $1.key }
        let key = Set(R.primaryKey.map { $0.lowercased() })
        let rest = columns.filter { !key.contains($0.key.lowercased()) }.map { "\(quoted($0.key)) = excluded.\(quoted($0.key))" }
        try execute("""
            INSERT INTO \(R.databaseTableName) (\(columns.map { quoted($0.key) }.joined(separator: ", "))) VALUES (\(placeholders(columns.count)))
            ON CONFLICT (\(R.primaryKey.map(quoted).joined(separator: ", "))) \(rest.isEmpty ? "DO NOTHING" : "DO UPDATE SET " + rest.joined(separator: ", "))
            """, SQLArguments(columns.map(\.value)))
    }

    /// Writes every column of the row with the record's key.
    func update<R: StoredRecord>(_ record: R) throws {
        let columns = try record.databaseDictionary
        let key = R.primaryKey.map { name in (name, columns.first { $0.key.lowercased() == name.lowercased() }?.value ?? .null) }
        let rest = columns.filter { column in !R.primaryKey.contains { $0.lowercased() == column.key.lowercased() } }.sorted { $0.key < $1.key }
        try execute("""
            UPDATE \(R.databaseTableName) SET \(rest.map { "\(quoted($0.key)) = ?" }.joined(separator: ", "))
            WHERE \(key.map { "\(quoted($0.0)) = ?" }.joined(separator: " AND "))
            """, SQLArguments(rest.map(\.value) + key.map(\.1)))
    }
}

/// A column name as both databases find it: PostgreSQL folded the unquoted camelCase of the
/// schema to lower case; SQLite compares names without case.
func quoted(_ column: String) -> String { "\"\(column.lowercased())\"" }

/// A stored value that is not what the code reads it as (written by another version, or damaged).
struct StoreValueError: Error, CustomStringConvertible {
    var sql: String, value: DatabaseValue, type: String
    var description: String { "the store holds \(value) where a \(type) was expected (\(sql.prefix(80)))" }
}
