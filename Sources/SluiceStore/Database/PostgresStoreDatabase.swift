import Dispatch
import FoundationEssentials
import Logging
import PostgresNIO
import SluiceCore
import Synchronization

/// The run store in a PostgreSQL database that several controllers share (`SLUICE_DATABASE_URL`).
///
/// A handful of connections, opened as needed and kept, on an event loop of the store's own.
/// Every write transaction first takes one transaction-scoped advisory lock, so writes run one
/// at a time across every process, as they do on SQLite: the store's read-then-write steps (the
/// promotion log's compare-and-swap above all) need no other care. Reads are `REPEATABLE READ`
/// snapshots and never wait for writes.
final class PostgresStoreDatabase: StoreDatabase {
    let location: String
    private let configuration: PostgresConnection.Configuration
    private let idle = Mutex<[PostgresConnection]>([])
    private let slots = DispatchSemaphore(value: PostgresStoreDatabase.connections)
    private let opened = Atomic<Int>(0)
    private static let logger = Logger(label: "sluice.store.postgres", factory: { _ in SwiftLogNoOpLogHandler() })
    let locks: PostgresLockSession

    /// At most this many statements in flight from one process.
    static let connections = 4
    /// `pg_advisory_xact_lock` key of every write ("sluicew" in ASCII).
    static let writeLock: Int64 = 0x0073_6C75_6963_6577
    /// `pg_advisory_lock` key held while migrating ("sluicem").
    static let migrationLock: Int64 = 0x0073_6C75_6963_656D

    init(settings: DatabaseSettings) throws {
        location = settings.redacted
        let configuration = try Self.configuration(settings)
        self.configuration = configuration
        locks = PostgresLockSession { [location, configuration] in
            try Self.connect(configuration: PostgresLockSession.configure(configuration), location: location, id: 0)
        }
        try migrate()
    }

    /// How to connect: the URL's server, user, database and TLS.
    private static func configuration(_ settings: DatabaseSettings) throws -> PostgresConnection.Configuration {
        let location = settings.redacted
        let tls: PostgresConnection.Configuration.TLS
        do {
            switch settings.tls {
            case .disable:
                tls = .disable
            case .require:
                var client = TLSConfiguration.makeClientConfiguration()
                client.certificateVerification = .none
                tls = .require(try NIOSSLContext(configuration: client))
            case .verifyFull:
                var client = TLSConfiguration.makeClientConfiguration()
                if let root = settings.rootCertificate { client.trustRoots = .file(root) }
                tls = .require(try NIOSSLContext(configuration: client))
            }
        } catch {
            throw RunStore.StoreError(description: "\(location): cannot set up TLS (\(error)); check sslrootcert, or sslmode")
        }
        var configuration = PostgresConnection.Configuration(host: settings.host, port: settings.port, username: settings.user,
                                                             password: settings.password, database: settings.database, tls: tls)
        configuration.options.connectTimeout = .seconds(10)
        return configuration
    }

    deinit {
        for connection in idle.withLock({ $0 }) { Self.close(connection) }
    }

    func write<T>(_ body: (any StoreTransaction) throws -> T) throws -> T {
        // READ COMMITTED, not a snapshot: each statement after the lock sees every write committed
        // before it was taken (a snapshot would date from the statement that waited for it).
        try transaction(begin: "BEGIN ISOLATION LEVEL READ COMMITTED", lock: true, body)
    }

    func read<T>(_ body: (any StoreTransaction) throws -> T) throws -> T {
        try transaction(begin: "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", lock: false, body)
    }

    var dialect: StoreDialect { .postgres }

    func tryLock(_ name: LockName) throws -> HeldLock? { try locks.tryLock(name) }

    func isLocked(_ name: LockName) throws -> Bool { try read { try locks.isLocked(name, on: $0) } }

    private func transaction<T>(begin: String, lock: Bool, _ body: (any StoreTransaction) throws -> T) throws -> T {
        try withConnection { connection in
            let transaction = PostgresTransaction(connection: connection)
            return try transaction.atomically(begin) {
                if lock { try transaction.execute("SELECT pg_advisory_xact_lock(?)", [Self.writeLock]) }
                return try body(transaction)
            }
        }
    }

    /// Runs `body` on an idle connection (or a new one), returned to the idle ones unless it
    /// failed: a connection whose statement failed in a way `ROLLBACK` could not mend is closed.
    private func withConnection<T>(_ body: (PostgresConnection) throws -> T) throws -> T {
        slots.wait()
        defer { slots.signal() }
        let reused = idle.withLock { $0.popLast() }
        let connection = try reused.flatMap { $0.isClosed ? nil : $0 } ?? connect()
        do {
            let result = try body(connection)
            idle.withLock { $0.append(connection) }
            return result
        } catch {
            if connection.isClosed || isBroken(error) {
                Self.close(connection)
            } else {
                idle.withLock { $0.append(connection) }
            }
            throw error
        }
    }

    /// A failure that leaves the connection unusable: no answer from the server (the link, not
    /// the statement, failed).
    private func isBroken(_ error: any Error) -> Bool {
        guard let error = error as? PostgresStatementError else { return false }
        return error.sqlState == nil
    }

    /// Closes without waiting (the event loop finishes it; nothing is left to read from it).
    static func close(_ connection: PostgresConnection) {
        let closing: EventLoopFuture<Void> = connection.close()
        // Kept until closed: postgres-nio asserts that a connection is closed before it is freed.
        closing.whenComplete { _ in withExtendedLifetime(connection) {} }
    }

    private func connect() throws -> PostgresConnection {
        try Self.connect(configuration: configuration, location: location, id: opened.add(1, ordering: .relaxed).newValue)
    }

    /// The event loop of every PostgreSQL connection of the process: a thread of the store's own
    /// (a caller waiting for an answer is never on it), kept for the life of the process so that
    /// a connection can close whenever its last user lets go.
    private static let eventLoops = MultiThreadedEventLoopGroup(numberOfThreads: 1)

    private static func connect(configuration: PostgresConnection.Configuration, location: String, id: Int) throws -> PostgresConnection {
        do {
            return try PostgresConnection.connect(on: eventLoops.next(), configuration: configuration, id: id, logger: logger).wait()
        } catch {
            throw RunStore.StoreError(description: "cannot connect to \(location): \(PostgresStatementError(error, statement: "connect").description)")
        }
    }

    /// Applies the migrations this database lacks, in order, each in its own transaction, under
    /// a session-level advisory lock (a second controller starting at the same time waits).
    private func migrate() throws {
        try withConnection { connection in
            let session = PostgresTransaction(connection: connection)
            try session.execute("SELECT pg_advisory_lock(?)", [Self.migrationLock])
            do {
                try applyMigrations(session)
                try session.execute("SELECT pg_advisory_unlock(?)", [Self.migrationLock])
            } catch {
                try session.execute("SELECT pg_advisory_unlock(?)", [Self.migrationLock])
                throw error
            }
        }
    }

    private func applyMigrations(_ session: PostgresTransaction) throws {
        try Self.createMigrationsTable(session)
        let applied = try session.values(String.self, "SELECT identifier FROM sluice_migrations ORDER BY position")
        let known = StoreSchema.postgres.map(\.name)
        guard applied.count <= known.count, Array(known.prefix(applied.count)) == applied else {
            throw RunStore.StoreError(description: """
                \(location) holds a run store of a schema this Sluice does not know (its last migration is '\(applied.last ?? "none")', \
                this Sluice's is '\(known.last ?? "none")'): run a Sluice at least as new as the one that last used it
                """)
        }
        for (position, migration) in StoreSchema.postgres.enumerated().dropFirst(applied.count) {
            do {
                try session.atomically("BEGIN") { try Self.apply(migration, position: position, session) }
            } catch {
                throw RunStore.StoreError(description: "\(location): the migration '\(migration.name)' failed: \(error)")
            }
        }
    }

    private static func createMigrationsTable(_ session: PostgresTransaction) throws {
        try session.execute("""
            CREATE TABLE IF NOT EXISTS sluice_migrations (position BIGINT PRIMARY KEY, identifier TEXT NOT NULL UNIQUE,
                                                          appliedAt DOUBLE PRECISION NOT NULL)
            """)
    }

    private static func apply(_ migration: StoreSchema.Migration, position: Int, _ session: PostgresTransaction) throws {
        for statement in migration.statements { try session.execute(statement) }
        try session.execute("INSERT INTO sluice_migrations (position, identifier, appliedAt) VALUES (?, ?, ?)",
                            [position, migration.name, Date().timeIntervalSince1970])
    }

    /// Builds a new store in `settings`' database, which must hold none, in one transaction: the
    /// schema up to `last` (nil: none), then `body` (an import's rows). Nothing stays when it fails.
    static func build<T>(settings: DatabaseSettings, upTo last: String?, _ body: (any StoreTransaction) throws -> T) throws -> T {
        let location = settings.redacted
        let connection = try connect(configuration: try configuration(settings), location: location, id: 0)
        defer { close(connection) }
        let session = PostgresTransaction(connection: connection)
        return try session.atomically("BEGIN") {
            try session.execute("SELECT pg_advisory_xact_lock(?)", [migrationLock])
            let tables = try session.value(Int.self, """
                SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name IN ('sluice_migrations', 'runs')
                """)
            guard tables == 0 else {
                throw RunStore.StoreError(description: "\(location) holds a run store: an import builds a new store; name an empty database")
            }
            try createMigrationsTable(session)
            let count = last.flatMap { last in StoreSchema.postgres.firstIndex { $0.name == last } }.map { $0 + 1 } ?? 0
            for (position, migration) in StoreSchema.postgres.prefix(count).enumerated() { try apply(migration, position: position, session) }
            return try body(session)
        }
    }
}
