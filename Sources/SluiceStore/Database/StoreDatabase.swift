/// Where the run store keeps its rows: the SQLite file of the state folder (the default) or a
/// PostgreSQL database several controllers share.
///
/// A write is one transaction, and writes run one at a time across every process on the same
/// database (SQLite's write lock; a transaction-scoped advisory lock on PostgreSQL), so each
/// read-then-write in the store (the promotion log's compare-and-swap, the run slots) holds
/// however many processes share it. A read sees one consistent moment.
protocol StoreDatabase: Sendable {
    func write<T>(_ body: (any StoreTransaction) throws -> T) throws -> T
    func read<T>(_ body: (any StoreTransaction) throws -> T) throws -> T
    /// Where it is, for messages (a PostgreSQL URL without its password).
    var location: String { get }
    /// How it spells migrations and sequences.
    var dialect: StoreDialect { get }
    /// Takes `name` for this process at once, or nil when another process holds it (see `LockName`).
    func tryLock(_ name: LockName) throws -> HeldLock?
    /// True while some process, this one included, holds `name`.
    func isLocked(_ name: LockName) throws -> Bool
}

extension StoreDatabase {
    /// The migrations applied, in order.
    func appliedMigrations() throws -> [String] { try read { try dialect.migrations($0) } }
}
