import Testing
@testable import SluiceCore

/// Pins the gate semantics written in the README ("The gate, the model registry and merge requests").
@Suite struct GateTests {
    static let here = SourceLocation(file: "policy.yaml", line: 1, column: 1)

    func rule(_ metric: String, _ change: Policy.ChangeBound? = nil, direction: Policy.Direction = .higher, min: Double? = nil,
              max: Double? = nil, slices: Policy.Slices = .none) -> Policy.Rule {
        Policy.Rule(metric: metric, direction: direction, min: min, max: max, vsProduction: change, slices: slices, location: Self.here)
    }

    func evaluate(_ rules: [Policy.Rule], _ candidate: [String: Double], production: [String: Double]?,
                  slices: [String: [String: Double]] = [:], productionSlices: [String: [String: Double]] = [:],
                  required: [String] = []) -> (rows: [GateReport.MetricRow], notes: [String]) {
        Gate.evaluate(policy: Policy(file: "p.yaml", rules: rules, required: required),
                      candidate: MetricSet(values: candidate, slices: slices),
                      production: production.map { .init(version: "3", metrics: MetricSet(values: $0, slices: productionSlices)) })
    }

    @Test func boundsAreInclusive() {
        let r = evaluate([rule("accuracy", min: 0.85, max: 0.99)], ["accuracy": 0.85], production: nil)
        #expect(r.rows.map(\.passed) == [true])
        #expect(evaluate([rule("accuracy", min: 0.85, max: 0.99)], ["accuracy": 0.99], production: nil).rows[0].passed)
        #expect(!evaluate([rule("accuracy", min: 0.85)], ["accuracy": 0.8499], production: nil).rows[0].passed)
    }

    /// A rule that fails two ways says both (the report is what a reviewer acts on).
    @Test func everyWayARuleFailsIsSaid() {
        let tolerance = Policy.ChangeBound(kind: .tolerance, amounts: [.absolute(0.02)])
        let row = evaluate([rule("accuracy", tolerance, min: 0.8)], ["accuracy": 0.7], production: ["accuracy": 0.81]).rows[0]
        #expect(!row.passed)
        #expect(row.reason == "below the minimum 0.8; worse than production by 0.11, more than the tolerance 0.02", "\(row.reason)")
        // Numbers side by side keep their trailing zeros.
        #expect(GateReportMarkdown.aligned(0.8, 0.815) == ("0.800", "0.815"))
        #expect(GateReportMarkdown.aligned(1, 0.5) == ("1.0", "0.5"))
        #expect(GateReportMarkdown.aligned(nil, 0.5) == ("–", "0.5"))
    }

    @Test func markdownCodeSpansHoldAnyTextAndTheVerdictComesFirst() {
        #expect(GateReportMarkdown.code("main") == "`main`")
        #expect(GateReportMarkdown.code("fix`quote") == "``fix`quote``")
        #expect(GateReportMarkdown.code("`edge``") == "``` `edge`` ```")
        #expect(GateReportMarkdown.code("a|b\nc") == "`a\\|b c`")
        let r = evaluate([rule("accuracy", min: 0.9), rule("f1", min: 0.5)], ["accuracy": 0.85, "f1": 0.7], production: nil)
        let report = GateReport(model: "m", repository: "r", ref: "refs/heads/feat`x", commit: "c0ffee", run: 7, policy: "p.yaml", decision: .reject,
                                passed: false, production: nil, metrics: r.rows, dataChecks: [], stages: [], datasetVersions: [:], parameters: [:],
                                artifacts: [], notes: [])
        let lines = GateReportMarkdown.render(report).split(separator: "\n").map(String.init)
        #expect(lines[1] == "## Sluice gate: ❌ reject")
        #expect(lines[2] == "- **failed** accuracy = 0.85: below the minimum 0.9", "the deciding rule before anything else: \(lines)")
        #expect(lines.contains { $0.contains("on ``feat`x``") }, "a backtick in the branch name keeps the code span whole")
    }

    /// A nested metrics file (`{"test": {"accuracy": …}}`) has `test.accuracy`; a policy that
    /// names `accuracy` is told so, and a near miss gets a did-you-mean.
    @Test func aMissingMetricNamesWhatTheFileHasInstead() {
        let nested = evaluate([rule("accuracy", min: 0)], ["test.accuracy": 0.9, "train.accuracy": 0.99], production: nil)
        #expect(nested.rows.map(\.reason) == ["missing; the metrics file has 'test.accuracy' (nested objects are read as dotted names): name that in the policy"])
        let near = evaluate([rule("acuracy", min: 0)], ["accuracy": 0.9], production: nil)
        #expect(near.rows.map(\.reason) == ["missing; did you mean 'accuracy'?"])
    }

    @Test func numbersReadAsPeopleWriteThem() {
        #expect(NumberText.short(0.00022041138069536748) == "2.2e-4")
        #expect(NumberText.short(-0.000012345) == "-1.23e-5")
        #expect(NumberText.short(0.81234567) == "0.8123")
        #expect(NumberText.short(152.5) == "152.5")
        #expect(NumberText.short(31_234_567.89) == "31234568")
        #expect(NumberText.short(1.5e20) == "1.5e+20")
        #expect(NumberText.short(9.999e-5) == "1e-4")
        #expect(NumberText.short(0) == "0")
    }

    @Test func missingAndNaNFail() {
        let r = evaluate([rule("accuracy", min: 0), rule("f1", min: 0)], ["f1": .nan], production: nil)
        #expect(r.rows.map(\.passed) == [false, false])
        #expect(r.rows.map(\.reason) == ["missing", "NaN"])
    }

    @Test func withoutProductionOnlyAbsoluteBoundsApplyAndTheReportSaysSo() {
        let r = evaluate([rule("accuracy", .init(kind: .tolerance, amounts: [.absolute(0)]), min: 0.8)], ["accuracy": 0.9], production: nil)
        #expect(r.rows[0].passed)
        #expect(r.notes == ["no production model yet: only absolute bounds apply"])
    }

    @Test func toleranceAllowsAtMostThatMuchWorseInclusiveDespiteRounding() {
        let tolerance = Policy.ChangeBound(kind: .tolerance, amounts: [.absolute(0.005)])
        #expect(evaluate([rule("accuracy", tolerance)], ["accuracy": 0.945], production: ["accuracy": 0.95]).rows[0].passed)
        let worse = evaluate([rule("accuracy", tolerance)], ["accuracy": 0.944], production: ["accuracy": 0.95]).rows[0]
        #expect(!worse.passed)
        #expect(worse.reason == "worse than production by 0.006, more than the tolerance 0.005")
        #expect(abs(worse.delta! - -0.006) < 1e-12)
    }

    @Test func relativeImprovementForLowerIsBetter() {
        let improve = Policy.ChangeBound(kind: .improvement, amounts: [.relative(0.02)])
        #expect(evaluate([rule("rmse", improve, direction: .lower)], ["rmse": 3.0], production: ["rmse": 3.1]).rows[0].passed)
        let small = evaluate([rule("rmse", improve, direction: .lower)], ["rmse": 3.05], production: ["rmse": 3.1]).rows[0]
        #expect(!small.passed)
        #expect(small.reason == "better than production by only 0.05, needs 2%")
        // Exactly 2% better passes (inclusive).
        #expect(evaluate([rule("rmse", improve, direction: .lower)], ["rmse": 2.94], production: ["rmse": 3.0]).rows[0].passed)
    }

    @Test func bothAmountsMustHold() {
        let both = Policy.ChangeBound(kind: .tolerance, amounts: [.absolute(0.01), .relative(0.01)])
        // 0.008 worse: within 0.01 absolute but more than 1% of 0.5 (0.005).
        #expect(!evaluate([rule("f1", both)], ["f1": 0.492], production: ["f1": 0.5]).rows[0].passed)
        #expect(evaluate([rule("f1", both)], ["f1": 0.496], production: ["f1": 0.5]).rows[0].passed)
    }

    @Test func zeroProductionFallsBackToTheAbsoluteChangeBound() {
        let both = Policy.ChangeBound(kind: .tolerance, amounts: [.relative(0.05), .absolute(0.1)])
        let r = evaluate([rule("loss_delta", both)], ["loss_delta": -0.05], production: ["loss_delta": 0])
        #expect(r.rows[0].passed)
        #expect(r.notes.contains { $0.contains("is 0: a relative change is undefined; the absolute change bound is used") })
        let onlyRelative = Policy.ChangeBound(kind: .tolerance, amounts: [.relative(0.05)])
        let strict = evaluate([rule("x", onlyRelative)], ["x": -0.01], production: ["x": 0])
        #expect(!strict.rows[0].passed)
        #expect(strict.notes.contains { $0.contains("required at least as good as production") })
    }

    @Test func sliceRulesApplyToEverySliceOrTheNamedOnes() {
        let slices = ["class=a": ["f1": 0.9], "class=b": ["f1": 0.7]]
        let all = evaluate([rule("f1", min: 0.8, slices: .all)], ["f1": 0.85], production: nil, slices: slices)
        #expect(all.rows.map { "\($0.slice ?? "-"):\($0.passed)" } == ["-:true", "class=a:true", "class=b:false"])
        let named = evaluate([rule("f1", min: 0.8, slices: .named(["class=a", "class=c"]))], ["f1": 0.85], production: nil, slices: slices)
        #expect(named.rows.map(\.passed) == [true, true, false])
        #expect(named.rows[2].reason == "slice 'class=c' is missing from the metrics file")
    }

    @Test func requiredMetricsMustBePresent() {
        let r = evaluate([rule("accuracy", min: 0)], ["accuracy": 1], production: nil, required: ["latency_p95"])
        #expect(r.rows.last?.metric == "latency_p95")
        #expect(r.rows.last?.passed == false)
    }

    @Test func reportPassesOnlyWithEveryRuleAndNoFailedDataCheck() {
        let ok = GateReport.MetricRow(metric: "a", slice: nil, candidate: 1, production: nil, delta: nil, rule: "", passed: true, reason: "")
        let failedData = GateReport.DataCheck(stage: "validate", validation: ValidationReport(data: "d.csv", reference: nil, rows: 1, verdict: .fail, checks: [], drift: [], notes: []))
        let warnData = GateReport.DataCheck(stage: "validate", validation: ValidationReport(data: "d.csv", reference: nil, rows: 1, verdict: .warn, checks: [], drift: [], notes: []))
        #expect(GateReport.passes([ok], [warnData]))
        #expect(!GateReport.passes([ok], [failedData]))
    }
}
