import Foundation
import Testing
import SluiceTestSupport

/// Two controller replicas elect one leader with a coordination.k8s.io/v1 Lease (emulator).
@Suite struct LeaseTests {
    let sluice = RepositoryLayout.sluiceBinary

    func replica(_ name: String, config: String, state: String, kubeconfig: String) throws -> (BackgroundProcess, String) {
        let p = try BackgroundProcess(sluice, ["watch", "--config", config, "--state", state], readyPrefix: "sluice: listening on 127.0.0.1:",
                                      environment: ["POD_NAME": name, "POD_IP": "127.0.0.1", "KUBECONFIG": kubeconfig, "SLUICE_TEST_API_TOKEN": "t"])
        return (p, "http://127.0.0.1:\(p.readyLine.split(separator: ",")[0])")
    }

    func readyz(_ base: String) throws -> String { try ProcessRunner.run("curl", ["-s", "--max-time", "5", base + "/readyz"]).stdout }

    func setup() throws -> (KubeEmulator, TestRepository, TemporaryDirectory, String) {
        let k = try KubeEmulator(namespace: "sluice-system")
        let repo = try TestRepository()
        try repo.commit("one", files: ["sluice.yaml": "version: 1\nstages:\n  hello: { run: \"echo hi\" }\n"])
        let dir = TemporaryDirectory()
        let config = dir.write("controller.yaml", """
            listen: 127.0.0.1:0
            interval: 1s
            token-env: SLUICE_TEST_API_TOKEN
            lease: { namespace: sluice-system, name: sluice-leader }
            repositories:
              - { name: demo, url: \(repo.path) }
            """)
        return (k, repo, dir, config)
    }

    @Test func oneReplicaLeadsAndAFollowerTakesOverWhenItStops() throws {
        let (k, repo, dir, config) = try setup()
        let (a, baseA) = try replica("replica-a", config: config, state: dir.path + "/a", kubeconfig: k.kubeconfig)
        try waitUntil("replica-a to lead") { try readyz(baseA).contains("leader (replica-a)") }
        let (b, baseB) = try replica("replica-b", config: config, state: dir.path + "/b", kubeconfig: k.kubeconfig)
        try waitUntil("replica-b to follow") { try readyz(baseB).contains("follower (leader: replica-a)") }
        func lease(_ field: String) throws -> String {
            try k.kubectl(["-n", "sluice-system", "get", "lease", "sluice-leader", "-o", "jsonpath={.spec.\(field)}"]).stdout
        }
        #expect(try lease("holderIdentity") == "replica-a")
        #expect(try lease("leaseTransitions") == "0", "the first holder is no transition, as client-go counts")
        // A follower takes no actions.
        let action = try ProcessRunner.run("curl", ["-s", "--max-time", "5", "-X", "POST", "-H", "Authorization: Bearer t", baseB + "/api/runs/1/rerun", "-w", " %{http_code}"]).stdout
        #expect(action.hasSuffix(" 503") && action.contains("this replica does not lead (follower (leader: replica-a))"), "\(action)")
        // Only the leader runs pipelines.
        try waitUntil("the leader's run") { FileManager.default.fileExists(atPath: dir.path + "/a/logs/run-1/hello.log") }
        #expect(!FileManager.default.fileExists(atPath: dir.path + "/b/logs"))
        // The follower serves the leader's pages (its own state holds no runs), found through the Lease.
        try waitUntil("the leader's run to finish") {
            try ProcessRunner.run("curl", ["-s", "--max-time", "5", baseA + "/runs/1"]).stdout.contains("Run 1 <span class=\"badge ok\">")
        }
        // The leader's address reaches the Lease at its first renewal after its server listens
        // (on a loaded machine, a few seconds after it leads).
        try waitUntil("the leader's address in the Lease") {
            try k.kubectl(["-n", "sluice-system", "get", "lease", "sluice-leader", "-o", "jsonpath={.metadata.annotations.sluice\\.dev/leader-url}"]).stdout == baseA
        }
        var page = ""
        try waitUntil("the follower to serve the leader's page (it reads the address at its next renewal)") {
            page = try ProcessRunner.run("curl", ["-s", "-i", "--max-time", "10", baseB + "/runs/1"]).stdout
            return !page.hasPrefix("HTTP/1.1 404")
        }
        #expect(page.contains("Run 1 <span class=\"badge ok\">") && page.lowercased().contains("x-sluice-served-by: leader"), "\(page)")

        // SIGTERM: the leader releases the lease; the follower takes over without waiting for it to expire.
        kill(a.pid, SIGTERM)
        var status: Int32 = 0
        waitpid(a.pid, &status, 0)
        try waitUntil("replica-b to lead", timeout: 15) { try readyz(baseB).contains("leader (replica-b)") }
        #expect(try lease("holderIdentity") == "replica-b" && lease("leaseTransitions") == "1", "a change of holder is one transition")
        try waitUntil("the new leader's run") { FileManager.default.fileExists(atPath: dir.path + "/b/logs/run-1/hello.log") }
        withExtendedLifetime((b, repo)) {}
    }

    @Test func withoutPermissionForTheLeaseNeitherReplicaLeads() throws {
        let (k, repo, dir, config) = try setup()
        try k.hook("deny/get/leases")
        let (a, baseA) = try replica("replica-a", config: config, state: dir.path + "/a", kubeconfig: k.kubeconfig)
        let (b, baseB) = try replica("replica-b", config: config, state: dir.path + "/b", kubeconfig: k.kubeconfig)
        try waitUntil("both replicas to report the error") {
            let ra = try readyz(baseA), rb = try readyz(baseB)
            return ra.contains("not ready: never leading") && rb.contains("not ready: never leading")
        }
        #expect(try readyz(baseA).contains("cannot get resource \"leases\" in API group \"coordination.k8s.io\""))
        #expect(!FileManager.default.fileExists(atPath: dir.path + "/a/logs"))
        #expect(!FileManager.default.fileExists(atPath: dir.path + "/b/logs"))
        withExtendedLifetime((a, b, repo)) {}
    }
}
