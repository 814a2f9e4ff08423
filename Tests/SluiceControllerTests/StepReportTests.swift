import Testing
@testable import SluiceController
import SluiceCore

/// What the watcher's steps conclude from what they observed: the conditions they own and what
/// they log, decided as values, without a watcher, a repository or a cluster.
@Suite struct StepReportTests {
    private func result(commit: String?, healthy: Bool? = nil, changes: [String] = []) -> DeployService.Result {
        var r = DeployService.Result(branch: "sluice/env/prod", kind: .branch, commit: commit, changes: changes)
        r.healthy = healthy
        return r
    }

    @Test func aFreshDeployAndAnEnvironmentInSyncAreBothTrue() {
        var pass = EnvironmentPass()
        pass.environment = "prod"
        pass.deploy = .deployed(version: "3", previous: "2", result: result(commit: "abc"))
        pass.drift = EnvironmentReconciler.Drift(version: "3", changes: [])
        let report = pass.report
        #expect(report.conditions == [
            .init(reason: .deployed, message: "runs production's version 3", environment: "prod"),
            .init(reason: .inSync, message: "matches version 3's manifests", environment: "prod"),
        ])
        #expect(report.lines == [.init(level: .info, message: "deployed version 3 to sluice/env/prod (it ran 2)", environment: "prod")])
    }

    @Test func driftIsFalseUnlessSelfHealRepairedIt() {
        var pass = EnvironmentPass()
        pass.environment = "prod"
        pass.drift = EnvironmentReconciler.Drift(version: "3", changes: ["~ Deployment/iris"])
        #expect(pass.report.conditions.map(\.reason.rawValue) == ["Drifted"])
        #expect(pass.report.conditions.first?.status == .false)

        pass.drift?.healed = result(commit: "def", healthy: true)
        #expect(pass.report.conditions.map(\.reason.rawValue) == ["SelfHealed"])
        #expect(pass.report.conditions.first?.status == .true)

        pass.drift?.healed = result(commit: "def", healthy: false)
        #expect(pass.report.conditions.map(\.reason.rawValue) == ["SelfHealFailed"])
        #expect(pass.report.conditions.first?.status == .false)
    }

    @Test func failuresSayWhyAndACheckThatCouldNotRunIsUnknown() {
        var pass = EnvironmentPass()
        pass.environment = "prod"
        pass.deployError = "the API server refused the Deployment"
        pass.driftError = "connection refused"
        let report = pass.report
        #expect(report.conditions.map(\.reason.rawValue) == ["DeployFailed", "DriftCheckFailed"])
        #expect(report.conditions.map(\.status) == [.false, .unknown])
        #expect(report.lines.map(\.level) == [.error, .error])
    }

    @Test func aRegistryMoveIsReportedOnlyWhenOneWasDue() {
        var pass = EnvironmentPass()
        #expect(pass.report.conditions.isEmpty)
        pass.registryMoved = true
        pass.registryProblem = "MLflow answered 503"
        #expect(pass.report.conditions == [.init(reason: .registryMoveFailed, message: "MLflow answered 503")])
        pass.registryProblem = nil
        #expect(pass.report.conditions.map(\.reason.rawValue) == ["RegistryMoved"])
        // No environment: nothing about Deployed or InSync.
        #expect(pass.report.conditions.allSatisfy { $0.environment == nil })
    }

    private func outcome(_ status: RunStatus, message: String? = nil, gateError: String? = nil) -> CommitPipeline.Outcome {
        var run = RunRecord(repository: "/r", ref: "refs/heads/main", commit: String(repeating: "a", count: 40), baseCommit: nil, trigger: "test",
                            status: status, createdAt: 0)
        run.message = message
        return CommitPipeline.Outcome(run: run, stages: [], status: status, gate: nil, verdict: nil, gateError: gateError)
    }

    @Test func aFailedRunIsNotTrainedAndAnUnevaluableGateIsNotGated() {
        let failed = outcome(.failed, message: "stage train failed").productionReport(runID: 7, commit: String(repeating: "a", count: 40))
        #expect(failed.conditions == [.init(reason: .runFailed,
                                            message: "run 7 of aaaaaaaaaaaa failed: stage train failed")])
        // The stages ran: trained; the gate could not judge them: not gated, and why.
        let unevaluable = outcome(.failed, gateError: "metrics.json is missing 'accuracy'").productionReport(runID: 8, commit: String(repeating: "b", count: 40))
        #expect(unevaluable.conditions.map(\.reason.rawValue) == ["Succeeded", "GateNotEvaluated"])
        #expect(unevaluable.conditions.last?.message == "run 8: metrics.json is missing 'accuracy'")
    }
}

extension StepReportTests {
    /// `Healthy` follows the deploy's rollout: ready workloads, or a deploy whose workloads never
    /// became ready (which is also a failed deploy).
    @Test func healthyFollowsTheRollout() {
        var pass = EnvironmentPass()
        pass.environment = "prod"
        pass.deploy = .deployed(version: "4", previous: "3", result: result(commit: nil, healthy: true))
        #expect(pass.report.conditions.map(\.reason) == [.deployed, .rolloutComplete])

        var failed = EnvironmentPass()
        failed.environment = "prod"
        failed.deployError = "deploying version 4 of iris to prod failed: deployment/iris: 0 of 2 replicas ready"
        failed.rolloutFailed = true
        #expect(failed.report.conditions.map(\.reason) == [.deployFailed, .rolloutFailed])
        #expect(failed.report.conditions.allSatisfy { $0.status == .false })

        failed.rolloutFailed = false
        #expect(failed.report.conditions.map(\.reason) == [.deployFailed], "a render error says nothing about the workloads")
    }

    @Test func eachEnvironmentStepStateIsAPromotingCondition() {
        func step(_ state: EnvironmentStepRecord.State) -> EnvironmentStepRecord {
            EnvironmentStepRecord(model: "m", version: "4", environment: "production", state: state, detail: "", actor: "sluice watch", reason: nil,
                                  runId: 1, createdAt: 0)
        }
        let waiting = ChainStep.promoting(step(.awaitingApproval), position: "waiting for approval to enter production")
        #expect(waiting == .init(reason: .waitingForApproval, message: "version 4: waiting for approval to enter production", environment: "production"))
        #expect(ChainStep.promoting(step(.failed), position: "x").reason == .stopped)
        #expect(ChainStep.promoting(step(.canary), position: "x").reason == .canary)
        #expect(ChainStep.promoting(step(.verified), position: "x").reason == .progressing)
        #expect(ChainStep.promoting(step(.superseded), position: "x").reason == .superseded)
    }
}
