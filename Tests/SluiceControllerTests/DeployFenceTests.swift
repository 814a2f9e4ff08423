import Testing
import SluiceCore
import SluiceGit
import SluiceRegistry
import SluiceStore
import SluiceTestSupport
@testable import SluiceController

@Suite struct DeployFenceTests {
    /// A replica whose leadership term is over deploys nothing (the environment branch is not
    /// written) and says why; a dry run, which writes nothing, is still answered.
    @Test func aReplicaWhoseTermIsOverDeploysNothing() throws {
        let repo = try TestRepository()
        let commit = try repo.commit("model", files: ["k8s/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: { name: m }\n"])
        let state = TemporaryDirectory(prefix: "sluice-fence")
        let (mine, theirs) = (try RunStore(stateDirectory: state.path), try RunStore(stateDirectory: state.path))
        try mine.beginTerm(lease: "ns/l", holder: "replica-a", at: 1)
        try theirs.beginTerm(lease: "ns/l", holder: "replica-b", at: 2)
        let environments = Environments(registry: EmbeddedRegistry(store: mine), store: mine, environment: [:])
        let deploy = DeploySpec(manifests: "k8s", location: SourceLocation(file: "sluice.yaml", line: 1, column: 1))
        let facts = DeployFacts(model: "m", version: "1", digest: "sha256:0", uri: "", commit: commit, datasets: [:], environment: "production",
                                namespace: "default", run: 1)
        let git = try GitRepository(path: repo.path)
        #expect(try !environments.write([], deploy: deploy, facts: facts, repository: git, action: "Deploy", dryRun: true).branch.isEmpty)
        #expect { try environments.write([], deploy: deploy, facts: facts, repository: git, action: "Deploy", dryRun: false) } throws: {
            "\($0)" == "deploying m version 1 to production refused: replica-a's term 1 of lease ns/l is over; replica-b leads in term 2"
        }
        #expect(try GitRepository(path: repo.path).resolveReference("refs/heads/sluice/env/production") == nil)
        #expect(try mine.deployedVersion(model: "m", environment: "production") == nil)
    }
}
