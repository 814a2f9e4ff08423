import Foundation
import Testing
import SluiceTestSupport

/// Every command on a run store in PostgreSQL (`SLUICE_DATABASE_URL`): runs recorded there, none
/// in the state folder, read back by another process and another state folder; a database that
/// cannot be reached, or a URL that is wrong, is said with the redacted URL and what to do.
@Suite struct PostgresStoreTests {
    let sluice = RepositoryLayout.sluiceBinary

    @Test func commandsKeepTheirRunsInTheDatabaseTheEnvironmentNames() throws {
        let server = try PostgresServer()
        let database = try server.createDatabase()
        let env = ["SLUICE_DATABASE_URL": server.url(database)]
        let repo = try TestRepository()
        try repo.commit("first", files: ["data.csv": "x\n1\n", "sluice.yaml": """
            version: 1
            stages:
              train: { run: "mkdir -p model && echo weights > model/w.bin", outputs: [model], when: { paths: [data.csv] } }
              check: { run: "cat model/w.bin", needs: [train] }
            """])
        let state = TemporaryDirectory(prefix: "sluice-state")
        let first = try ProcessRunner.run(sluice, ["run", "--repo", repo.path, "--state", state.path], environment: env)
        #expect(first.status == 0, "\(first.stdout)\(first.stderr)")
        #expect(!FileManager.default.fileExists(atPath: state.path + "/sluice.sqlite"))
        #expect(try server.psql("SELECT status FROM runs ORDER BY id", database: database.database) == "succeeded\n")

        // The same commit again restores the cached outputs the database records.
        let again = try ProcessRunner.run(sluice, ["run", "--repo", repo.path, "--state", state.path], environment: env)
        #expect(again.stdout.contains("run 2: succeeded"), "\(again.stdout)\(again.stderr)")
        let runs = try ProcessRunner.run(sluice, ["runs", "--all", "--state", state.path, "--format", "json"], environment: env)
        #expect(runs.status == 0, "\(runs.stderr)")
        let listed = try JSONSerialization.jsonObject(with: Data(runs.stdout.utf8)) as? [[String: Any]]
        #expect(listed?.compactMap { ($0["run"] as? [String: Any])?["id"] as? Int } == [2, 1], "\(runs.stdout)")
        let logs = try ProcessRunner.run(sluice, ["logs", "1", "check", "--state", state.path], environment: env)
        #expect(logs.stdout.contains("weights"), "\(logs.stdout)\(logs.stderr)")

        // Export reads SQLite stores only, and says how to back up this one.
        let export = try ProcessRunner.run(sluice, ["store", "export", "--state", state.path], environment: env)
        #expect(export.status != 0 && export.stderr.contains("back it up with pg_dump"), "\(export.stderr)")
    }

    @Test func anUnreachableDatabaseOrAWrongURLIsSaidWithoutThePassword() throws {
        let repo = try TestRepository()
        try repo.commit("first", files: ["sluice.yaml": "version: 1\nstages:\n  a: { run: \"true\" }\n"])
        let state = TemporaryDirectory(prefix: "sluice-state")
        let port = try FreePort.next()
        let down = try ProcessRunner.run(sluice, ["run", "--repo", repo.path, "--state", state.path],
                                         environment: ["SLUICE_DATABASE_URL": "postgres://sluice:hunter2@127.0.0.1:\(port)/runs?sslmode=disable"])
        #expect(down.status != 0)
        #expect(down.stderr.contains("cannot connect to postgres://sluice:***@127.0.0.1:\(port)/runs"), "\(down.stderr)")
        #expect(!down.stderr.contains("hunter2"))
        let wrong = try ProcessRunner.run(sluice, ["runs", "--state", state.path], environment: ["SLUICE_DATABASE_URL": "postgres://127.0.0.1/runs"])
        #expect(wrong.status != 0)
        #expect(wrong.stderr.contains("SLUICE_DATABASE_URL: names no user"), "\(wrong.stderr)")
    }

    /// `store: { url-env: … }` whose variable is not set refuses the configuration at its line.
    @Test func aControllerConfigurationNamingAnUnsetVariableIsRefusedAtItsLine() throws {
        let folder = TemporaryDirectory(prefix: "sluice-config")
        let config = folder.write("controller.yaml", """
            repositories:
              - { name: a, url: /tmp/nowhere }
            store: { url-env: RUNS_DATABASE_URL }
            """)
        let check = try ProcessRunner.run(sluice, ["watch", "--config", config, "--check"])
        #expect(check.status != 0)
        #expect(check.stderr.contains("controller.yaml:3:8") && check.stderr.contains("store.url-env RUNS_DATABASE_URL is not set"), "\(check.stderr)")
    }
}
