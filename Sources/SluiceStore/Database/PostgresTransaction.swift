import FoundationEssentials
import GRDB
import PostgresNIO

/// One transaction on a PostgreSQL connection: the store's `?` statements numbered (`$1`, …),
/// their values bound with the types GRDB gives them, each result cell read back as the
/// `DatabaseValue` SQLite would have returned (integers, reals, text, blobs; booleans as 0/1).
///
/// The store's calls are synchronous (as SQLite's are): each statement waits for its answer on
/// the calling thread. The connection's event loop is the backend's own, never the caller's.
struct PostgresTransaction: StoreTransaction {
    let connection: PostgresConnection

    func rows(_ sql: String, _ arguments: SQLArguments) throws -> [Row] {
        try run(sql, arguments).rows.map { row in
            var columns: [String: DatabaseValue] = [:]
            for cell in row { columns[cell.columnName] = try Self.value(cell) }
            return Row(columns)
        }
    }

    func column(_ sql: String, _ arguments: SQLArguments) throws -> [DatabaseValue] {
        try run(sql, arguments).rows.map { row in try row.first.map(Self.value) ?? .null }
    }

    func execute(_ sql: String, _ arguments: SQLArguments) throws -> Int {
        try run(sql, arguments).metadata.rows ?? 0
    }

    /// `begin`, `body`, then `COMMIT`; `ROLLBACK` when `body` throws (a failing `ROLLBACK` is said
    /// with the error it followed, and leaves the connection to be closed).
    func atomically<T>(_ begin: String, _ body: () throws -> T) throws -> T {
        try execute(begin)
        do {
            let result = try body()
            try execute("COMMIT")
            return result
        } catch {
            do { try execute("ROLLBACK") } catch let rollback {
                throw PostgresStatementError(description: "\(error); then ROLLBACK failed: \(rollback)")
            }
            throw error
        }
    }

    private func run(_ sql: String, _ arguments: SQLArguments) throws -> PostgresQueryResult {
        do { return try connection.query(Self.numbered(sql), arguments.values.map(Self.data)).wait() } catch {
            throw PostgresStatementError(error, statement: sql)
        }
    }

    /// `?` placeholders as `$1`, `$2`, …, outside quoted strings and names.
    static func numbered(_ sql: String) -> String {
        var out = ""
        out.reserveCapacity(sql.utf8.count + 16)
        var number = 0
        var quote: Character?
        for c in sql {
            if let q = quote {
                if c == q { quote = nil }
                out.append(c)
            } else if c == "'" || c == "\"" {
                quote = c
                out.append(c)
            } else if c == "?" {
                number += 1
                out += "$\(number)"
            } else {
                out.append(c)
            }
        }
        return out
    }

    static func data(_ value: DatabaseValue) -> PostgresData {
        switch value.storage {
        case .null: return .null
        case .int64(let v): return PostgresData(int64: v)
        case .double(let v): return PostgresData(double: v)
        case .string(let v): return PostgresData(string: v)
        case .blob(let v): return PostgresData(bytes: [UInt8](v))
        }
    }

    static func value(_ cell: PostgresCell) throws -> DatabaseValue {
        guard cell.bytes != nil else { return .null }
        switch cell.dataType {
        case .int2, .int4, .int8, .oid: return try cell.decode(Int64.self).databaseValue
        case .float4, .float8: return try cell.decode(Double.self).databaseValue
        case .bool: return (try cell.decode(Bool.self) ? 1 : 0).databaseValue
        case .bytea: return Data(try cell.decode([UInt8].self)).databaseValue
        case .text, .varchar, .name, .bpchar: return try cell.decode(String.self).databaseValue
        case .numeric:
            // An aggregate over integers (sum) is numeric: read as SQLite would give it.
            let text = try cell.decode(String.self)
            if let integer = Int64(text) { return integer.databaseValue }
            guard let real = Double(text) else { throw PostgresValueError(column: cell.columnName, type: "numeric '\(text)'") }
            return real.databaseValue
        default:
            throw PostgresValueError(column: cell.columnName, type: "\(cell.dataType)")
        }
    }
}

/// A column of a type the store never writes (its schema holds integers, reals and text only).
struct PostgresValueError: Error, CustomStringConvertible {
    var column: String, type: String
    var description: String { "the column '\(column)' holds a \(type), which the run store does not read" }
}

/// What PostgreSQL said about a statement (postgres-nio's own description hides the server's
/// message so that no value leaks; the store's statements carry none, their values are bound).
struct PostgresStatementError: Error, CustomStringConvertible {
    var description: String
    /// The SQLSTATE code, when the server answered (`P0001`: raised by a trigger).
    var sqlState: String?

    /// A failure with no answer from the server (the connection is not used again).
    init(description: String) {
        self.description = description
    }

    init(_ error: any Error, statement: String) {
        let head = statement.split(separator: "\n").first.map(String.init) ?? statement
        guard let error = error as? PSQLError else {
            description = "\(error) (\(head.prefix(80)))"
            return
        }
        if let info = error.serverInfo {
            sqlState = info[.sqlState]
            description = [info[.message], info[.detail], info[.hint]].compactMap { $0 }.joined(separator: "; ")
                + " [SQLSTATE \(info[.sqlState] ?? "?")] (\(head.prefix(80)))"
        } else {
            description = "\(error.code)" + (error.underlying.map { ": \($0)" } ?? "") + " (\(head.prefix(80)))"
        }
    }
}
