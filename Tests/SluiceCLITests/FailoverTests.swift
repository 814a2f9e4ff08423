import Foundation
import Testing
import SluiceTestSupport

/// Two controller replicas on one PostgreSQL run store with a Lease (emulator): the leader dies
/// (`kill -9`) in the middle of a pipeline; the follower takes over when the Lease runs out,
/// marks the run interrupted and retries it from its unfinished stage, the finished one
/// restored from the database.
@Suite struct FailoverTests {
    let sluice = RepositoryLayout.sluiceBinary

    @Test(.enabled(if: RequiredTools.run(whenPresent: KubeEmulator.hasKubectl), "kubectl is not installed: SKIPPED"))
    func aFollowerTakesOverADeadLeadersRunFromItsUnfinishedStage() throws {
        let k = try KubeEmulator(namespace: "sluice-system")
        let server = try PostgresServer()
        let database = try server.createDatabase()
        let scratch = TemporaryDirectory(prefix: "sluice-failover")
        let held = try HeldTraining()
        let config = scratch.write("controller.yaml", """
            listen: 127.0.0.1:0
            interval: 1s
            lease: { namespace: sluice-system, name: sluice-leader }
            store: { url-env: SLUICE_DATABASE_URL }
            repositories:
              - { name: demo, url: \(held.repo.path) }
            """)
        func replica(_ name: String) throws -> BackgroundProcess {
            try BackgroundProcess(sluice, ["watch", "--config", config, "--state", scratch.path + "/" + name], readyPrefix: "sluice: listening on 127.0.0.1:",
                                  environment: ["POD_NAME": name, "POD_IP": "127.0.0.1", "KUBECONFIG": k.kubeconfig,
                                                "SLUICE_DATABASE_URL": server.url(database)],
                                  stderrFile: scratch.path + "/\(name).log")
        }
        func sql(_ query: String) throws -> String { try server.psql(query, database: database.database) }

        let a = try replica("replica-a")
        try waitUntil("replica-a to lead and start training", timeout: 60) { held.started() == ["prepare", "train"] }
        let b = try replica("replica-b")
        // The follower, started while the leader runs, leaves the leader's run alone.
        try waitUntil("replica-b to follow") {
            (try? String(contentsOfFile: scratch.path + "/replica-b.log", encoding: .utf8))?.contains("the run store is the PostgreSQL database") == true
        }
        #expect(try sql("SELECT status FROM runs WHERE id = 1") == "running\n")

        kill(a.pid, SIGKILL)
        var status: Int32 = 0
        waitpid(a.pid, &status, 0)
        held.release()
        // The Lease (15 s) runs out; replica-b leads, recovers run 1 and runs its retry.
        try waitUntil("replica-b to retry run 1", timeout: 90) {
            try sql("SELECT status FROM runs WHERE retryOf = 1") == "succeeded\n"
        }
        #expect(try sql("SELECT status FROM runs WHERE id = 1") == "interrupted\n")
        #expect(try sql("SELECT stage || ' ' || status FROM stage_results WHERE runId = (SELECT id FROM runs WHERE retryOf = 1) ORDER BY stage")
                == "prepare cached\ntrain succeeded\n")
        #expect(held.started() == ["prepare", "train", "train"])
        let log = (try? String(contentsOfFile: scratch.path + "/replica-b.log", encoding: .utf8)) ?? ""
        #expect(log.contains("sluice: run 1 was interrupted by a crash; queued again as run"), "\(log)")
        withExtendedLifetime(b) {}
    }
}
