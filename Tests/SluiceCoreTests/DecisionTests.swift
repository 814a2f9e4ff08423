import Foundation
import Testing
import SluiceCore

/// The decisions made in one place: which branch promotes, whether a run passed.
@Suite struct DecisionTests {
    @Test func theProductionBranchIsConfiguredThenGateBranchThenTheDefault() {
        #expect(ProductionBranch.name(configured: "release", gateBranch: "stable", defaultBranch: "main") == "release")
        #expect(ProductionBranch.name(configured: nil, gateBranch: "stable", defaultBranch: "main") == "stable")
        #expect(ProductionBranch.name(configured: nil, gateBranch: nil, defaultBranch: "trunk") == "trunk")
        #expect(ProductionBranch.name(configured: nil, gateBranch: nil, defaultBranch: nil) == "main")
        #expect(ProductionBranch.promotes(ref: "refs/heads/stable", branch: "stable"))
        #expect(!ProductionBranch.promotes(ref: "refs/pull/3/head", branch: "stable"))
        #expect(!ProductionBranch.promotes(ref: "stable", branch: "stable"))
        #expect(!ProductionBranch.promotes(ref: nil, branch: "main"))
    }

    @Test func aRunPassesOnlyWhenEveryPartDid() {
        #expect(RunPassed.decide(stagesSucceeded: true, candidatePassed: nil))
        #expect(RunPassed.decide(stagesSucceeded: true, candidatePassed: true, deployHealthy: true))
        #expect(!RunPassed.decide(stagesSucceeded: false, candidatePassed: nil))
        #expect(!RunPassed.decide(stagesSucceeded: true, gateEvaluated: false, candidatePassed: nil))
        #expect(!RunPassed.decide(stagesSucceeded: true, candidatePassed: false))
        #expect(!RunPassed.decide(stagesSucceeded: true, candidatePassed: true, deployHealthy: false))
        #expect(!RunPassed.decide(stagesSucceeded: true, candidatePassed: true, chainFailed: true))
    }

    @Test func aGateThatCannotBeEvaluatedFailsClosed() {
        let d = Verdict.decide(unevaluable: "policy.yaml:3:5: unknown key 'mni'")
        #expect(d.verdict == .couldNotEvaluate && !d.passed)
        #expect(d.reasons == ["the gate could not be evaluated: policy.yaml:3:5: unknown key 'mni'"])
    }

    @Test func aCommitIDIsStoredInFullAndShownShort() throws {
        let id = CommitID("0123456789abcdef0123456789abcdef01234567")
        #expect(id.short == "0123456789ab")
        #expect("\(id)" == id.full)
        let json = try JSONEncoder().encode([id])
        #expect(String(decoding: json, as: UTF8.self) == "[\"0123456789abcdef0123456789abcdef01234567\"]")
        #expect(try JSONDecoder().decode([CommitID].self, from: json) == [id])
    }
}
