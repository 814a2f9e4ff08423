import SluiceCore
import SluiceTestSupport
import Testing
@testable import SluiceStore

/// The two expressions of the store's schema (`StoreSchema.sqlite`, GRDB's migrator, and
/// `StoreSchema.postgres`, SQL statements) name the same versions and build the same tables:
/// a migration added to one and not the other fails here.
@Suite struct StoreSchemaTests {
    /// Each table's columns as "name type [not null] [key]", and the indexes by name.
    struct Shape: Equatable {
        var columns: [String: [String]] = [:]
        var indexes: Set<String> = []
    }

    func sqliteShape(_ store: RunStore) throws -> Shape {
        try store.read { db in
            var shape = Shape()
            for table in try db.values(String.self, """
                SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name != 'grdb_migrations'
                """) {
                shape.columns[table] = try db.rows("SELECT name, type, \"notnull\", pk FROM pragma_table_info(?)", [table]).map { row in
                    let type: String = row["type"], key = (row["pk"] as Int) > 0
                    let family = ["INTEGER": "integer", "BOOLEAN": "integer", "TEXT": "text", "DOUBLE": "real"][type] ?? type
                    return "\((row["name"] as String).lowercased()) \(family)\((row["notnull"] as Int) == 1 || key ? " not null" : "")\(key ? " key" : "")"
                }.sorted()
            }
            shape.indexes = Set(try db.values(String.self, "SELECT name FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_autoindex%'"))
            return shape
        }
    }

    func postgresShape(_ store: RunStore) throws -> Shape {
        try store.read { db in
            var shape = Shape()
            let keys = Set(try db.rows("""
                SELECT k.table_name, k.column_name FROM information_schema.table_constraints c
                JOIN information_schema.key_column_usage k ON k.constraint_name = c.constraint_name AND k.table_name = c.table_name
                WHERE c.constraint_type = 'PRIMARY KEY' AND c.table_schema = 'public'
                """).map { "\($0["table_name"] as String).\($0["column_name"] as String)" })
            for row in try db.rows("""
                SELECT table_name, column_name, data_type, is_nullable FROM information_schema.columns
                WHERE table_schema = 'public' AND table_name != 'sluice_migrations'
                """) {
                let table: String = row["table_name"], name: String = row["column_name"], type: String = row["data_type"]
                let family = ["bigint": "integer", "text": "text", "double precision": "real"][type] ?? type
                let key = keys.contains("\(table).\(name)")
                shape.columns[table, default: []].append("\(name) \(family)\((row["is_nullable"] as String) == "NO" ? " not null" : "")\(key ? " key" : "")")
            }
            shape.columns = shape.columns.mapValues { $0.sorted() }
            shape.indexes = Set(try db.values(String.self, """
                SELECT indexname FROM pg_indexes WHERE schemaname = 'public' AND indexname NOT LIKE '%_pkey' AND tablename != 'sluice_migrations'
                """))
            return shape
        }
    }

    @Test func bothSchemasHaveTheSameVersionsTablesColumnsKeysAndIndexes() throws {
        let sqlite = try StoreFixture(.sqlite), postgres = try StoreFixture(.postgres)
        let a = try sqlite.open(), b = try postgres.open()
        #expect(try a.database.appliedMigrations() == StoreSchema.sqlite.migrations)
        #expect(try b.database.appliedMigrations() == StoreSchema.postgres.map(\.name))
        #expect(StoreSchema.sqlite.migrations == StoreSchema.postgres.map(\.name))
        let left = try sqliteShape(a), right = try postgresShape(b)
        #expect(left.columns.keys.sorted() == right.columns.keys.sorted())
        for table in left.columns.keys.sorted() {
            #expect(left.columns[table] == right.columns[table], "table \(table)")
        }
        #expect(left.indexes == right.indexes)
    }

    /// A second open of a migrated database changes nothing; one that a newer Sluice migrated
    /// further is refused with what to do.
    @Test func aPostgresStoreIsMigratedOnceAndANewerOneIsRefused() throws {
        let fixture = try StoreFixture(.postgres)
        _ = try fixture.open()
        let store = try fixture.open()
        #expect(try store.database.appliedMigrations().count == StoreSchema.postgres.count)
        let server = try #require(fixture.server), database = try #require(fixture.database)
        try server.psql("INSERT INTO sluice_migrations VALUES (1000, 'v99: from the future', 0)", database: database.database)
        #expect {
            _ = try fixture.open()
        } throws: { error in
            "\(error)".contains("v99: from the future") && "\(error)".contains("run a Sluice at least as new")
        }
    }
}
