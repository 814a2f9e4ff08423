import Testing
@testable import SluiceCore

/// The pure parts of the reconciler: the gate's one verdict, conditions, and the planner's
/// level-triggered dataset rule.
@Suite struct VerdictTests {
    let passing = Verdict.Facts(rulesPassed: true, dataChecksPassed: true, hasMetrics: true, isProductionRef: true)

    @Test func theProductionBranchPromotesWhatPassesAndRejectsWhatDoesNot() {
        #expect(Verdict.decide(passing).verdict == .promote)
        var failing = passing
        failing.rulesPassed = false
        let d = Verdict.decide(failing)
        #expect(d.verdict == .reject && !d.passed)
        #expect(d.reasons == ["a policy rule is not met"])
    }

    @Test func otherRefsGetAReportOnly() {
        var facts = passing
        facts.isProductionRef = false
        let d = Verdict.decide(facts)
        #expect(d.verdict == .reportOnly && d.passed, "a merge request's report still says it would pass")
    }

    @Test func nothingNewIsReportOnlyAndOlderIsRejected() {
        var same = passing
        same.sameAsProduction = "the model is production's version 3"
        #expect(Verdict.decide(same).verdict == .reportOnly)
        var gated = passing
        gated.alreadyGated = "run 7 already gated this model: reject"
        #expect(Verdict.decide(gated).verdict == .reportOnly, "a docs-only commit after a rejection registers nothing")
        var older = passing
        older.supersededBy = "production already holds version 4 from the newer commit abc"
        #expect(Verdict.decide(older).verdict == .reject)
    }

    @Test func undeployableCandidatesAndMissingMetricsFail() {
        var render = passing
        render.renderError = "manifests/app.yaml:3:5: unknown value"
        #expect(Verdict.decide(render).verdict == .reject)
        #expect(Verdict.decide(render).reasons.first?.contains("do not render") == true)
        var refused = passing
        refused.clusterRefusal = "422 Deployment is invalid"
        #expect(Verdict.decide(refused).verdict == .reject)
        var none = passing
        none.hasMetrics = false
        #expect(Verdict.decide(none).verdict == .reject)
        var data = passing
        data.dataChecksPassed = false
        #expect(Verdict.decide(data).reasons == ["a data check failed"])
    }
}

@Suite struct ConditionsTests {
    @Test func theTransitionTimeChangesOnlyWithTheStatus() {
        var c = Conditions()
        #expect(c.set(.fetched, message: "ok", at: 10) != nil)
        #expect(c.set(.fetched, message: "ok again", at: 20) == nil, "no change: logged once")
        #expect(c[.fetched]?.transitionTime == 10)
        #expect(c[.fetched]?.message == "ok again")
        #expect(c.set(.fetchFailed, message: "down", at: 30)?.transitionTime == 30)
    }

    @Test func readyFollowsTheOthers() {
        var c = Conditions()
        c.set(.fetched, message: "", at: 1)
        #expect(c.updateReady(at: 1, required: [.fetched, .specValid])?.status == .unknown, "the spec was not checked yet")
        c.set(.invalidSpec, message: "sluice.yaml:3:5: unknown key", at: 2)
        let ready = c.updateReady(at: 2, required: [.fetched, .specValid])
        #expect(ready?.status == .false && ready?.reason == "InvalidSpec")
        #expect(ready?.message == "SpecValid: sluice.yaml:3:5: unknown key")
        c.set(.valid, message: "", at: 3)
        #expect(c.updateReady(at: 3, required: [.fetched, .specValid])?.status == .true)
        #expect(c.all.map(\.kind) == [.fetched, .specValid, .ready], "shown in a fixed order")
    }
}

@Suite struct LevelTriggeredPlanningTests {
    struct Content: CommitContent {
        var commitID = "c3"
        var rootTreeID = "t3"
        func objectID(at path: String) -> String? { "o-" + path }
        func files(under folder: String) -> [(path: String, id: String)] { [] }
        func parameter(_ ref: ParamRef) -> String? { nil }
    }

    let spec = PipelineSpec(file: "sluice.yaml", stages: [
        StageSpec(name: "train", location: SourceLocation(file: "sluice.yaml", line: 1, column: 1), command: .shell("train"),
                  when: Trigger(datasets: ["d"])),
    ])

    func plan(trained: [ChangeFacts.TrainedData]?) -> PlannedStage? {
        // The commit itself changed nothing the stage declares (a test fix after a failed run).
        var facts = ChangeFacts(baseCommit: "c2", changes: [], datasetVersions: ["d": "new"], baseDatasetVersions: ["d": "new"])
        facts.trained = trained
        return Planner.plan(spec: spec, content: Content(), facts: facts).stages.first
    }

    @Test func dataNoModelWasTrainedOnIsTrainedWhateverTheParentHad() {
        let stage = plan(trained: [ChangeFacts.TrainedData(label: "production version 1", datasetVersions: ["d": "old"])])
        #expect(stage?.decision == .run)
        #expect(stage?.reasons == ["no model was trained on d new yet (production version 1: d old)"])
    }

    @Test func dataAGatedCandidateWasTrainedOnIsNotTrainedAgain() {
        let stage = plan(trained: [ChangeFacts.TrainedData(label: "production version 1", datasetVersions: ["d": "old"]),
                                   ChangeFacts.TrainedData(label: "run 4's candidate (reject)", datasetVersions: ["d": "new"])])
        #expect(stage?.decision == .skip)
    }

    @Test func withoutAGateOnlyTheBaseCounts() {
        #expect(plan(trained: nil)?.decision == .skip)
    }
}

@Suite struct MetricRangeTests {
    @Test func valuesBeyondTheRangeAreRefusedAndNaNIsLeftToTheRules() throws {
        let policy = Policy(file: "p.yaml", rules: [Policy.Rule(metric: "accuracy", direction: .higher, location: SourceLocation(file: "p.yaml", line: 1, column: 1))])
        #expect(throws: MetricRange.OutOfRange.self) {
            try MetricRange.check(policy: policy, candidate: MetricSet(values: ["accuracy": .infinity]), production: nil)
        }
        #expect(throws: MetricRange.OutOfRange.self) {
            try MetricRange.check(policy: policy, candidate: MetricSet(values: ["accuracy": 0.9]), production: MetricSet(values: ["accuracy": -2e15]))
        }
        try MetricRange.check(policy: policy, candidate: MetricSet(values: ["accuracy": .nan, "unruled": 1e300]), production: nil)
        #expect(MetricRange.text(3) == "3" && MetricRange.text(1e300) == "1e+300" && MetricRange.text(-.infinity) == "-inf")
        #expect(MetricRange.text(9.3e18) == "9.3e+18", "no trapping conversion to Int")
    }
}

/// Which runs may reuse which cache entries, and which merge requests run.
@Suite struct UntrustedMergeRequestCoreTests {
    @Test func cacheScopesFollowTheRef() {
        #expect(CacheScope.of(ref: "refs/heads/main", productionBranch: "main") == .production)
        #expect(CacheScope.of(ref: "refs/pull/7/head", productionBranch: "main") == .mergeRequest(7))
        #expect(CacheScope.of(ref: "refs/merge-requests/7/head", productionBranch: "main") == .mergeRequest(7))
        #expect(CacheScope.of(ref: "refs/heads/feature", productionBranch: "main") == .other("refs/heads/feature"))
        #expect(CacheScope.of(ref: nil, productionBranch: "main") == .other("detached"))
        // Production reads only production; others read production and their own.
        #expect(CacheScope.production.readable == ["production"])
        #expect(CacheScope.mergeRequest(7).readable == ["production", "merge-request/7"])
        for bad in ["refs/pull/+7/head", "refs/pull/7/head/x", "refs/pull//head", "refs/pull/99999999999999999999/head", "refs/pull/0/head"] {
            #expect(MergeRequestRef.number(of: bad) == nil, "\(bad)")
        }
    }

    @Test func forkPolicyDecides() {
        let fork = ForkAdmission.Origin.fork("mallory/iris")
        #expect(ForkAdmission.decide(policy: .approval, origin: .sameRepository, approved: false) == .run)
        #expect(ForkAdmission.decide(policy: .never, origin: .sameRepository, approved: false) == .run)
        #expect(ForkAdmission.decide(policy: .always, origin: fork, approved: false) == .run)
        #expect(ForkAdmission.decide(policy: .approval, origin: fork, approved: true) == .run)
        guard case .awaitingApproval(let why) = ForkAdmission.decide(policy: .approval, origin: fork, approved: false) else {
            Issue.record("a fork's unapproved head must wait")
            return
        }
        #expect(why.contains("mallory/iris"))
        // A forge that cannot say is a fork.
        guard case .awaitingApproval(let unknown) = ForkAdmission.decide(policy: .approval, origin: .unknown("no forge"), approved: false) else {
            Issue.record("an unknown origin must wait")
            return
        }
        #expect(unknown.contains("may come from a fork (no forge)"))
        guard case .refused = ForkAdmission.decide(policy: .never, origin: fork, approved: true) else {
            Issue.record("never means never, approved or not")
            return
        }
    }
}
