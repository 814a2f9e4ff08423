import SluiceCore
import Testing

/// A comparison judges the version against its baseline: worse by the test, by the bound, or
/// (both set) by both; too few samples is inconclusive, never a pass.
@Suite struct ComparisonJudgeTests {
    func comparison(test: Bool = true, bound: Double? = nil, direction: Comparison.Direction = .lower, minSamples: Int = 10) -> Comparison {
        var c = Comparison(baseline: .stable, query: "q{version=\"{{version}}\"}")
        c.confidence = test ? 0.95 : nil
        c.maxRelativeChange = bound
        c.direction = direction
        c.minSamples = minSamples
        return c
    }

    let baseline = (0..<20).map { 0.1 + Double($0 % 5) * 0.01 }  // 0.10 ... 0.14
    var doubled: [Double] { baseline.map { $0 * 2 } }

    @Test func twiceTheLatencyFailsWithItsPValue() {
        let j = ComparisonJudge.judge(doubled, baseline: baseline, comparison())
        #expect(j.verdict == .failed)
        #expect(j.p! < 1e-6 && j.samples == 20 && j.baselineSamples == 20)
        #expect(j.reason.hasPrefix("Mann–Whitney U 400, p = ") && j.reason.hasSuffix("< 0.05: worse"), "\(j.reason)")
    }

    @Test func theSameDistributionPassesAndBetterPasses() {
        #expect(ComparisonJudge.judge(baseline.reversed(), baseline: baseline, comparison()).verdict == .passed)
        let better = ComparisonJudge.judge(baseline.map { $0 / 2 }, baseline: baseline, comparison(bound: 0.1))
        #expect(better.verdict == .passed && better.relativeChange! < 0, "\(better)")
    }

    @Test func higherIsBetterTurnsTheTestAround() {
        #expect(ComparisonJudge.judge(doubled, baseline: baseline, comparison(direction: .higher)).verdict == .passed)
        #expect(ComparisonJudge.judge(baseline, baseline: doubled, comparison(direction: .higher)).verdict == .failed)
    }

    @Test func tooFewSamplesIsInconclusiveNeverAPass() {
        let j = ComparisonJudge.judge(Array(doubled.prefix(5)), baseline: baseline, comparison())
        #expect(j.verdict == .inconclusive && j.reason == "too few samples to compare (5 and 20; min-samples is 10)")
        // Not-a-number samples (a quantile of no requests) are not samples.
        let nan = ComparisonJudge.judge(Array(repeating: .nan, count: 30) + baseline.prefix(9), baseline: baseline, comparison())
        #expect(nan.verdict == .inconclusive && nan.samples == 9)
    }

    @Test func theBoundAloneJudgesTheMeans() {
        let fifteen = ComparisonJudge.judge(baseline.map { $0 * 1.15 }, baseline: baseline, comparison(test: false, bound: 0.1))
        #expect(fifteen.verdict == .failed && fifteen.reason == "mean +15 % > +10 %: worse" && fifteen.p == nil, "\(fifteen.reason)")
        #expect(ComparisonJudge.judge(baseline.map { $0 * 1.05 }, baseline: baseline, comparison(test: false, bound: 0.1)).verdict == .passed)
    }

    /// Kayenta's effect size: a difference the test finds significant but smaller than the bound passes.
    @Test func withBothTheVersionFailsOnlyWhenBothSayWorse() {
        let slower = baseline.map { $0 + 0.025 }
        #expect(ComparisonJudge.judge(slower, baseline: baseline, comparison()).verdict == .failed, "the test alone: significant")
        let both = ComparisonJudge.judge(slower, baseline: baseline, comparison(bound: 0.25))
        #expect(both.verdict == .passed && both.reason.contains("+20.8 % ≤ +25 %") && both.reason.hasSuffix(": not worse"), "\(both.reason)")
        #expect(ComparisonJudge.judge(doubled, baseline: baseline, comparison(bound: 0.25)).verdict == .failed)
    }

    @Test func equalSamplesAndAZeroBaselineAreJudged() {
        let zeros = Array(repeating: 0.0, count: 12)
        let same = ComparisonJudge.judge(zeros, baseline: zeros, comparison(bound: 0.1))
        #expect(same.verdict == .passed && same.p == 1 && same.relativeChange == 0, "\(same)")
        // Errors where the baseline has none: no fraction of 0, but worse.
        let errors = ComparisonJudge.judge(zeros.map { $0 + 0.01 }, baseline: zeros, comparison(test: false, bound: 0.5))
        #expect(errors.verdict == .failed && errors.relativeChange == nil && errors.reason.contains("worse than a baseline mean of 0"), "\(errors.reason)")
    }
}
