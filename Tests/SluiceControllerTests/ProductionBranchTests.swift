import Testing
import SluiceCore
import SluiceGit
import SluiceTestSupport
@testable import SluiceController

/// The controller tracks and promotes the branch `ProductionBranch` names: its own `branch`,
/// else the `gate.branch` of the default branch's `sluice.yaml`, else the default branch.
@Suite struct ProductionBranchTests {
    static let spec = "version: 1\nstages:\n  t: { run: \"true\" }\ngate:\n  policy: p.yaml\n"

    @Test func gateBranchOfTheDefaultBranchIsHonoured() throws {
        let repo = try TestRepository()
        _ = try repo.commit("spec", files: ["sluice.yaml": Self.spec + "  branch: release\n", "p.yaml": "rules: []\n"])
        let git = try GitRepository(path: repo.path)
        #expect(try ProductionBranch.resolve(configured: nil, repository: git) == "release")
        #expect(try ProductionBranch.resolve(configured: "stable", repository: git) == "stable")
        let gate = try #require(try CommittedSpec.load(repository: git, commit: "HEAD")?.gate)
        #expect(GateService.isProductionRef("refs/heads/release", branch: nil, spec: gate, repository: git))
        #expect(!GateService.isProductionRef("refs/heads/main", branch: nil, spec: gate, repository: git))
        #expect(GateService.isProductionRef("refs/heads/main", branch: "main", spec: gate, repository: git))
    }

    @Test func withoutGateBranchTheDefaultBranchPromotes() throws {
        let repo = try TestRepository()
        _ = try repo.commit("spec", files: ["sluice.yaml": Self.spec, "p.yaml": "rules: []\n"])
        let git = try GitRepository(path: repo.path)
        #expect(try ProductionBranch.resolve(configured: nil, repository: git) == "main")
    }

    @Test func anInvalidOrMissingSpecFallsBackToTheDefaultBranch() throws {
        let repo = try TestRepository()
        _ = try repo.commit("no spec", files: ["README": "x\n"])
        let git = try GitRepository(path: repo.path)
        #expect(try ProductionBranch.resolve(configured: nil, repository: git) == "main")
        #expect(try CommittedSpec.load(repository: git, commit: "HEAD") == nil)
        _ = try repo.commit("broken", files: ["sluice.yaml": "version: [\n"])
        #expect(try CommittedSpec.result(repository: git, commit: "HEAD")?.diagnostics.isEmpty == false)
        #expect(try ProductionBranch.resolve(configured: nil, repository: git) == "main")
    }
}
