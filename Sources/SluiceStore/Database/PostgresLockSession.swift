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
    private struct State {
        var connection: PostgresConnection?
        /// What this process holds. PostgreSQL's session locks are re-entrant, a lock file is
        /// not: a second claim from this process is refused here, as a second `flock` is.
        var held: Set<LockName> = []
    }

    private let state = Mutex(State())
    private let connect: @Sendable () throws -> PostgresConnection

    static let runClass: Int64 = 0x736C_7572

    init(connect: @escaping @Sendable () throws -> PostgresConnection) {
        self.connect = connect
    }

    /// The lock session's connection settings: named in `pg_stat_activity` (`sluice locks`), and
    /// with the server's TCP keep-alives short. A replica cut off by the network (its node lost,
    /// not its process: nothing closes the connection) would otherwise keep its runs' locks for
    /// the kernel's default two hours, and the replica that takes over would leave those runs
    /// `running`; with these the server ends the session, and frees its locks, about 11 s after
    /// the cut (5 s idle, then 3 probes 2 s apart): before the default 15 s Lease runs out.
    static func configure(_ configuration: PostgresConnection.Configuration) -> PostgresConnection.Configuration {
        var configured = configuration
        configured.options.additionalStartupParameters += [
            ("application_name", "sluice locks"),
            ("tcp_keepalives_idle", "5"), ("tcp_keepalives_interval", "2"), ("tcp_keepalives_count", "3"),
        ]
        return configured
    }

    deinit {
        if let connection = state.withLock({ $0.connection }) { PostgresStoreDatabase.close(connection) }
    }

    func tryLock(_ name: LockName) throws -> HeldLock? {
        let (sql, arguments) = Self.statement("pg_try_advisory_lock", name)
        let taken = try state.withLock { state -> Bool in
            guard !state.held.contains(name) else { return false }
            let live = try session(&state)
            var taken: Bool?
            do { taken = try PostgresTransaction(connection: live).value(Bool.self, sql, arguments) } catch {
                // The session ended under the statement: once more on a new one.
                guard Self.ended(live, by: error) else { throw error }
                PostgresStoreDatabase.close(live)
                state.connection = nil
                taken = try PostgresTransaction(connection: try session(&state)).value(Bool.self, sql, arguments)
            }
            guard taken == true else { return false }
            state.held.insert(name)
            return true
        }
        guard taken else { return nil }
        return HeldLock(name) { [self] in unlock(name) }
    }

    /// The lock session, opened again if it ended (a cut to the database, a server restart). The
    /// server dropped the locks of the session that ended; they are taken again at once (a replica
    /// that looked in between saw them free).
    private func session(_ state: inout State) throws -> PostgresConnection {
        if let live = state.connection, !live.isClosed { return live }
        let fresh = try connect()
        state.connection = fresh
        for name in state.held {
            let (sql, arguments) = Self.statement("pg_try_advisory_lock", name)
            // One another process took meanwhile stays its own; this process's holder learns
            // nothing of it (a run it thought it owned may be retried elsewhere).
            _ = try PostgresTransaction(connection: fresh).value(Bool.self, sql, arguments)
        }
        return fresh
    }

    /// The lock session's value of a server setting: what its connection asked the server for.
    func setting(_ name: String) throws -> String? {
        try state.withLock { state in
            try PostgresTransaction(connection: try session(&state)).value(String.self, "SELECT current_setting(?)", [name])
        }
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
        state.withLock { state in
            state.held.remove(name)
            // A session that ended took its locks with it: nothing to release.
            guard let live = state.connection, !live.isClosed else { return }
            do { try PostgresTransaction(connection: live).execute(sql, arguments) } catch {
                if Self.ended(live, by: error) {
                    PostgresStoreDatabase.close(live)
                    state.connection = nil
                }
            }
        }
    }

    /// Whether `error` ended the session: the connection closed, no answer came, or the server
    /// ended the backend (SQLSTATE class 57P: an administrator's `pg_terminate_backend`, a
    /// shutdown) or the connection (class 08) — the answer can come before the close is seen.
    private static func ended(_ connection: PostgresConnection, by error: any Error) -> Bool {
        if connection.isClosed { return true }
        guard let failure = error as? PostgresStatementError else { return false }
        guard let state = failure.sqlState else { return true }
        return state.hasPrefix("57P") || state.hasPrefix("08")
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
        case .run(let id):
            return (runClass, id & 0x7FFF_FFFF, 2)
        case .stageInputs:
            let key = UInt64(bitPattern: singleKey(name))
            return (Int64(key >> 32), Int64(key & 0xFFFF_FFFF), 1)
        }
    }

    private static func singleKey(_ name: LockName) -> Int64 {
        let digest = ContentHash.sha256Hex(Array(name.fileName.utf8))
        return Int64(bitPattern: UInt64(digest.prefix(16), radix: 16) ?? 0)
    }
}
