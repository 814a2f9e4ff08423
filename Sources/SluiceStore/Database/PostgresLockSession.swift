import FoundationEssentials
import PostgresNIO
import SluiceCore
import Synchronization

/// The session that holds this process's advisory locks on a PostgreSQL run store (runs it
/// owns, stage inputs it executes): one connection of its own, so that the locks live exactly as
/// long as the process does; the server drops them when the connection ends, as the kernel drops
/// a dead process's `flock`s. Run locks use the two-key form (`'slur'`, run id), stage inputs the
/// one-key form (a hash of repository and cache key); the two key spaces do not overlap.
final class PostgresLockSession: Sendable {
    private let session = Mutex<PostgresConnection?>(nil)
    private let connect: @Sendable () throws -> PostgresConnection

    static let runClass: Int64 = 0x736C_7572

    init(connect: @escaping @Sendable () throws -> PostgresConnection) {
        self.connect = connect
    }

    deinit {
        if let connection = session.withLock({ $0 }) { PostgresStoreDatabase.close(connection) }
    }

    func tryLock(_ name: LockName) throws -> HeldLock? {
        let (sql, arguments) = Self.statement("pg_try_advisory_lock", name)
        let taken = try session.withLock { connection -> Bool in
            let live = try connection.flatMap { $0.isClosed ? nil : $0 } ?? connect()
            connection = live
            return try PostgresTransaction(connection: live).value(Bool.self, sql, arguments) ?? false
        }
        guard taken else { return nil }
        return HeldLock(name) { [self] in unlock(name) }
    }

    /// Any session of this database holding `name`, this one included (`pg_locks`).
    func isLocked(_ name: LockName, on transaction: any StoreTransaction) throws -> Bool {
        let (high, low, form) = Self.keys(name)
        return try transaction.value(Bool.self, """
            SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted
              AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
              AND CAST(classid AS bigint) = ? AND CAST(objid AS bigint) = ? AND objsubid = ?)
            """, [high, low, form]) ?? false
    }

    private func unlock(_ name: LockName) {
        let (sql, arguments) = Self.statement("pg_advisory_unlock", name)
        session.withLock { connection in
            // A session that ended took its locks with it: nothing to release.
            guard let live = connection, !live.isClosed else { return }
            do { try PostgresTransaction(connection: live).execute(sql, arguments) } catch {
                if live.isClosed { connection = nil }
            }
        }
    }

    /// `function(key)` or `function(key1, key2)` for `name`.
    private static func statement(_ function: String, _ name: LockName) -> (String, SQLArguments) {
        switch name {
        case .run(let id):
            ("SELECT \(function)(CAST(? AS integer), CAST(? AS integer))", [runClass, id & 0x7FFF_FFFF])
        case .stageInputs:
            ("SELECT \(function)(?)", [singleKey(name)])
        }
    }

    /// How `pg_locks` shows the lock: `classid`, `objid` (the key's two halves) and `objsubid`
    /// (1 for a one-key lock, 2 for a two-key one).
    private static func keys(_ name: LockName) -> (Int64, Int64, Int64) {
        switch name {
        case .run(let id): (runClass, id & 0x7FFF_FFFF, 2)
        case .stageInputs:
            (Int64(UInt64(bitPattern: singleKey(name)) >> 32), Int64(UInt64(bitPattern: singleKey(name)) & 0xFFFF_FFFF), 1)
        }
    }

    private static func singleKey(_ name: LockName) -> Int64 {
        let digest = ContentHash.sha256Hex(Array(name.fileName.utf8))
        return Int64(bitPattern: UInt64(digest.prefix(16), radix: 16) ?? 0)
    }
}
