import Testing
import SluiceCore

/// Analyses are judged as Argo Rollouts judges an AnalysisRun: failures beyond the limit fail
/// at once, missing data is inconclusive (never a pass), a pass needs every measurement.
@Suite struct AnalysisJudgeTests {
    func analysis(min: Double? = nil, max: Double? = 0.01, count: Int = 3, failureLimit: Int = 0) -> Analysis {
        var a = Analysis(query: "q")
        a.min = min
        a.max = max
        a.count = count
        a.failureLimit = failureLimit
        return a
    }

    typealias M = AnalysisJudge.Measurement

    @Test func passesOnlyOnceEveryMeasurementIsIn() {
        let a = analysis()
        #expect(AnalysisJudge.decide([M(values: [0.001]), M(values: [0.002])], a) == nil)
        #expect(AnalysisJudge.decide([M(values: [0.001]), M(values: [0.002]), M(values: [0.01])], a) == .passed)
    }

    @Test func failuresBeyondTheLimitFailAtOnce() {
        let a = analysis(failureLimit: 1)
        #expect(AnalysisJudge.decide([M(values: [0.2])], a) == nil, "one failure is within the limit")
        #expect(AnalysisJudge.decide([M(values: [0.2]), M(values: [0.3])], a) == .failed)
        #expect(AnalysisJudge.describe([M(values: [0.2]), M(values: [0.001])], a) == "0.2 (> max 0.01), 0.001")
    }

    @Test func noDataErrorsAndNaNAreInconclusiveNeverAPass() {
        let a = analysis(count: 2)
        #expect(AnalysisJudge.decide([M(values: []), M(values: [0.001])], a) == .inconclusive)
        #expect(AnalysisJudge.decide([M(values: [], error: "unreachable"), M(values: [0.001])], a) == .inconclusive)
        #expect(AnalysisJudge.decide([M(values: [.nan]), M(values: [0.001])], a) == .inconclusive)
        #expect(AnalysisJudge.describe([M(values: []), M(values: [], error: "timeout")], a) == "no data, error (timeout)")
    }

    @Test func everySeriesMustBeWithinBothBounds() {
        let a = analysis(min: 0.9, max: 1, count: 1)
        #expect(AnalysisJudge.decide([M(values: [0.95, 0.99])], a) == .passed)
        #expect(AnalysisJudge.decide([M(values: [0.95, 0.5])], a) == .failed)
        #expect(AnalysisJudge.describe([M(values: [0.5])], a) == "0.5 (< min 0.9)")
    }

    @Test func placeholdersSelectTheVersionsSeries() {
        let a = Analysis(query: "sum(rate(errors_total{model=\"{{model.name}}\",version=\"{{model.version}}\",env=\"{{environment}}\"}[1m]))")
        #expect(a.query(model: "iris", version: "7", environment: "staging") == "sum(rate(errors_total{model=\"iris\",version=\"7\",env=\"staging\"}[1m]))")
    }
}

/// How many canary pods make a step's share next to the stable ones.
@Suite struct CanaryReplicasTests {
    @Test func theCanaryShareFollowsTheStepRoundedUp() {
        #expect(CanaryStrategy.replicas(stable: 3, weight: 25) == 1)
        #expect(CanaryStrategy.replicas(stable: 3, weight: 50) == 3)
        #expect(CanaryStrategy.replicas(stable: 9, weight: 10) == 1)
        #expect(CanaryStrategy.replicas(stable: 2, weight: 10) == 1, "at least one pod")
        #expect(CanaryStrategy.replicas(stable: 4, weight: 100) == 4)
        #expect(CanaryStrategy.replicas(stable: 0, weight: 50) == 1)
        #expect(CanaryStrategy.replicas(stable: Int.max, weight: 99) == 1_000_000, "bounded, no trap")
    }
}
