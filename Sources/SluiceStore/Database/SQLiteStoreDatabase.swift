import FoundationEssentials
import GRDB
#if canImport(Glibc)
import Glibc
#endif

/// The run store in `<state>/sluice.sqlite` (WAL, synchronous FULL): nothing to install.
final class SQLiteStoreDatabase: StoreDatabase {
    let pool: DatabasePool
    let location: String
    let stateDirectory: String

    init(path: String, stateDirectory: String) throws {
        location = path
        self.stateDirectory = stateDirectory
        try FileManager.default.createDirectory(atPath: stateDirectory, withIntermediateDirectories: true)
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        configuration.prepareDatabase { db in
            // WAL is DatabasePool's default; FULL makes each commit durable across power loss too.
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        // Two processes opening a new state folder at once: one migrates, the other waits.
        let lock = try MigrationLock(stateDirectory: stateDirectory)
        pool = try DatabasePool(path: path, configuration: configuration)
        try StoreSchema.sqlite.migrate(pool)
        withExtendedLifetime(lock) {}
    }

    func write<T>(_ body: (any StoreTransaction) throws -> T) throws -> T {
        try pool.write { db in try body(SQLiteTransaction(db: db)) }
    }

    func read<T>(_ body: (any StoreTransaction) throws -> T) throws -> T {
        try pool.read { db in try body(SQLiteTransaction(db: db)) }
    }

    var dialect: StoreDialect { .sqlite }

    /// Builds a new store at `path`, which must not exist: the schema up to `last` (nil: none),
    /// then `body` (an import's rows) in one transaction, foreign keys checked at its end, then
    /// the migrations after `last`. Nothing stays when it fails.
    static func build<T>(path: String, stateDirectory: String, upTo last: String?, _ body: (any StoreTransaction) throws -> T) throws -> T {
        try FileManager.default.createDirectory(atPath: stateDirectory, withIntermediateDirectories: true)
        let lock = try MigrationLock(stateDirectory: stateDirectory)
        defer { withExtendedLifetime(lock) {} }
        guard !FileManager.default.fileExists(atPath: path) else {
            throw RunStore.StoreError(description: "\(path) exists: an import builds a new store; choose an empty state folder (--state)")
        }
        let pool = try DatabasePool(path: path)
        do {
            if let last { try StoreSchema.sqlite.migrate(pool, upTo: last) }
            let result = try pool.write { db in
                try db.execute(sql: "PRAGMA defer_foreign_keys = ON")
                return try body(SQLiteTransaction(db: db))
            }
            try StoreSchema.sqlite.migrate(pool)
            return result
        } catch {
            try pool.close()
            for suffix in ["", "-wal", "-shm"] { unlink(path + suffix) }
            throw error
        }
    }

    func tryLock(_ name: LockName) throws -> HeldLock? { try LockFile.tryLock(name, stateDirectory: stateDirectory) }

    func isLocked(_ name: LockName) throws -> Bool { LockFile.isLocked(name, stateDirectory: stateDirectory) }
}

struct SQLiteTransaction: StoreTransaction {
    let db: Database

    func rows(_ sql: String, _ arguments: SQLArguments) throws -> [Row] {
        try Row.fetchAll(db, sql: sql, arguments: StatementArguments(arguments.values))
    }

    func column(_ sql: String, _ arguments: SQLArguments) throws -> [DatabaseValue] {
        try DatabaseValue.fetchAll(db, sql: sql, arguments: StatementArguments(arguments.values))
    }

    func execute(_ sql: String, _ arguments: SQLArguments) throws -> Int {
        try db.execute(sql: sql, arguments: StatementArguments(arguments.values))
        return db.changesCount
    }
}
