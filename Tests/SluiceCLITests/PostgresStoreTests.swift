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

        // The store moves out of the database into a state folder (the outputs and logs copied),
        // and from there into another database: the same lines each time.
        let export = try ProcessRunner.run(sluice, ["store", "export", "--state", state.path], environment: env)
        #expect(export.status == 0, "\(export.stderr)")
        let folder = TemporaryDirectory(prefix: "sluice-moved")
        let moved = try ProcessRunner.run(sluice, ["store", "import", "--state", folder.path, "--from", state.path], input: export.stdout)
        #expect(moved.stdout.contains("into \(folder.path) (2 runs); copied "), "\(moved.stdout)\(moved.stderr)")
        let fromFolder = try ProcessRunner.run(sluice, ["logs", "1", "check", "--state", folder.path])
        #expect(fromFolder.stdout.contains("weights"), "\(fromFolder.stdout)\(fromFolder.stderr)")
        let other = try server.createDatabase()
        let otherEnv = ["SLUICE_DATABASE_URL": server.url(other)]
        let back = try ProcessRunner.run(sluice, ["store", "import", "--state", TemporaryDirectory(prefix: "sluice-back").path],
                                         environment: otherEnv, input: try ProcessRunner.run(sluice, ["store", "export", "--state", folder.path]).stdout)
        #expect(back.stdout.contains("rows into postgres://") && back.stdout.contains("(2 runs)"), "\(back.stdout)\(back.stderr)")
        #expect(try server.psql("SELECT count(*) FROM stage_results", database: other.database) == "4\n")
        let twice = try ProcessRunner.run(sluice, ["store", "import", "--state", folder.path], environment: otherEnv, input: export.stdout)
        #expect(twice.status != 0 && twice.stderr.contains("holds a run store: an import builds a new store; name an empty database"), "\(twice.stderr)")
    }

    /// Two machines (two state folders) on one database. While a run's process lives, a run
    /// started on the other machine leaves it alone; once it died (`kill -9`), the next run
    /// there marks it interrupted and retries it from its unfinished stage, the finished one
    /// restored from the database, not run again.
    @Test func aRunWhoseProcessDiedOnAnotherMachineIsRetriedFromItsUnfinishedStage() throws {
        let server = try PostgresServer()
        let database = try server.createDatabase()
        let env = ["SLUICE_DATABASE_URL": server.url(database)]
        let held = try HeldTraining()
        let other = try TestRepository()
        try other.commit("other", files: ["sluice.yaml": "version: 1\nstages:\n  a: { run: \"true\" }\n"])
        let machineA = TemporaryDirectory(prefix: "sluice-machine-a"), machineB = TemporaryDirectory(prefix: "sluice-machine-b")

        let first = try BackgroundProcess(sluice, ["run", "--repo", held.repo.path, "--state", machineA.path], environment: env)
        try waitUntil("the first machine's train stage") { held.started() == ["prepare", "train"] }
        let meanwhile = try ProcessRunner.run(sluice, ["run", "--repo", other.path, "--state", machineB.path], environment: env)
        #expect(meanwhile.status == 0 && !meanwhile.stdout.contains("interrupted"), "\(meanwhile.stdout)\(meanwhile.stderr)")
        #expect(try server.psql("SELECT status FROM runs WHERE id = 1", database: database.database) == "running\n")

        kill(first.pid, SIGKILL)
        var status: Int32 = 0
        waitpid(first.pid, &status, 0)
        held.release()
        let retry = try ProcessRunner.run(sluice, ["run", "--repo", held.repo.path, "--state", machineB.path], environment: env)
        #expect(retry.status == 0, "\(retry.stdout)\(retry.stderr)")
        let said = retry.stdout + retry.stderr
        #expect(said.contains("run 1 (") && said.contains("was interrupted by a crash; queued again as run 3"), "\(said)")
        #expect(held.started() == ["prepare", "train", "train"])
        let stages = try server.psql("SELECT runId || ' ' || stage || ' ' || status FROM stage_results ORDER BY runId, stage", database: database.database)
        #expect(stages.contains("1 prepare succeeded\n1 train interrupted\n") && stages.contains("3 prepare cached\n3 train succeeded\n"), "\(stages)")
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
