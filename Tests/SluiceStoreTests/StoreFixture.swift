import SluiceCore
import SluiceTestSupport
import Testing
@testable import SluiceStore

/// The two places a run store keeps its rows; every store test runs on both.
enum Backend: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite, postgres
    var testDescription: String { rawValue }
}

/// A new, empty run store on a backend: a state folder, and on PostgreSQL a real server (from
/// Debian's `postgresql`, started for the test) with a database of its own.
final class StoreFixture {
    let state = TemporaryDirectory(prefix: "sluice-store")
    let server: PostgresServer?
    let database: DatabaseSettings?

    init(_ backend: Backend) throws {
        switch backend {
        case .sqlite:
            (server, database) = (nil, nil)
        case .postgres:
            let server = try PostgresServer()
            (self.server, database) = (server, try server.createDatabase())
        }
    }

    /// Opens the store; each call is another connection to it, as another process would have.
    func open() throws -> RunStore {
        try RunStore(stateDirectory: state.path, database: database)
    }
}
