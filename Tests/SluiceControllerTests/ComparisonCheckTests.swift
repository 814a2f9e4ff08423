import SluiceCore
import SluiceTestSupport
import Testing
@testable import SluiceController

/// `compare:` against a real Prometheus scraping a model server's latency histograms of several
/// versions: 12 one-second samples of each version's p90 over the same window, judged by the
/// Mann–Whitney test with a 50 % effect size (Kayenta's way: significant and large enough; the
/// samples overlap — a 3 s rate every second — so the test alone would find noise significant).
@Suite(.serialized) struct ComparisonCheckTests {
    func check(_ version: String, against stable: String, _ prometheus: PrometheusServer, seconds: Int = 12) async -> EnvironmentChecks.Result {
        var c = Comparison(baseline: .stable, query: LatencyExporter.p90)
        (c.confidence, c.maxRelativeChange, c.intervalSeconds, c.stepSeconds) = (0.95, 0.5, seconds, 1)
        return await ComparisonCheck(name: "latency", comparison: c, model: "m", version: version, environment: "production",
                                     prometheusURL: prometheus.url)
            .run(against: Baselines(stable: .init(version: stable, environment: "production")))
    }

    @Test(.enabled(if: RequiredTools.run(whenPresent: PrometheusServer.isInstalled), "prometheus is not installed: SKIPPED"))
    func twiceTheLatencyFailsAnEqualVersionAndASpikeInBothPassAndFewSamplesAreInconclusive() async throws {
        let exporter = try LatencyExporter(["1": .init(mean: 0.1), "2": .init(mean: 0.2), "3": .init(mean: 0.1),
                                            "4": .init(mean: 0.1, spiky: true), "5": .init(mean: 0.1, spiky: true)])
        let prometheus = try PrometheusServer(scraping: exporter.target)
        // Enough history for the rate windows; a loaded machine may miss scrapes for a while, so the wait is long.
        try prometheus.waitUntil(#"count_over_time(http_duration_seconds_count{version="1"}[60s])"#, isAtLeast: 16, timeout: 120)

        let doubled = await check("2", against: "1", prometheus)
        #expect(doubled.verdict == .failed, "\(doubled.detail)")
        let judged = try #require(doubled.comparison?.judgement)
        #expect(judged.samples >= 10 && judged.baselineSamples >= 10 && judged.p! < 0.05 && judged.relativeChange! > 0.5, "\(judged)")
        #expect(doubled.detail.contains("version 2: \(judged.samples) samples") && doubled.detail.contains("vs stable version 1")
                && doubled.detail.contains("Mann–Whitney U") && doubled.detail.contains(": worse"), "\(doubled.detail)")

        let equal = await check("3", against: "1", prometheus)
        #expect(equal.verdict == .passed, "\(equal.detail)")

        // Both slow down fourfold for 3 s in every 6: against a bound the canary would fail, against the stable version it passes.
        let spike = await check("5", against: "4", prometheus)
        #expect(spike.verdict == .passed, "\(spike.detail)")
        let spread = try #require(spike.comparison?.samples)
        #expect((spread.max() ?? 0) > 2 * (spread.min() ?? 0), "the window saw the spike: \(spread)")

        // A window of five samples only (a spec could not ask it: the decoder refuses windows below min-samples): inconclusive.
        let five = await check("2", against: "1", prometheus, seconds: 5)
        #expect(five.verdict == .inconclusive && five.detail.contains("too few samples to compare (5 and 5; min-samples is 10)"), "\(five.detail)")

        // A version that has served for a moment only: too few samples, inconclusive, never a pass.
        try exporter.set(["1": .init(mean: 0.1), "6": .init(mean: 0.1)])
        try prometheus.waitUntil(#"count_over_time(http_duration_seconds_count{version="6"}[30s])"#, isAtLeast: 2)
        let young = await check("6", against: "1", prometheus)
        #expect(young.verdict == .inconclusive && young.detail.contains("too few samples to compare"), "\(young.detail)")

        let unknown = await check("7", against: "1", prometheus)
        #expect(unknown.verdict == .inconclusive && unknown.detail.contains("too few samples to compare (0 and"), "\(unknown.detail)")
    }

    @Test func noBaselineVersionPassesAndNoPrometheusIsInconclusive() async {
        var c = Comparison(baseline: .production, query: LatencyExporter.p90)
        c.confidence = 0.95
        let first = await ComparisonCheck(name: "latency", comparison: c, model: "m", version: "1", environment: "staging", prometheusURL: "http://127.0.0.1:9")
            .run(against: Baselines())
        #expect(first.verdict == .passed && first.detail == "nothing to compare with: no production version runs")
        let unreachable = await ComparisonCheck(name: "latency", comparison: c, model: "m", version: "2", environment: "staging", prometheusURL: "http://127.0.0.1:9")
            .run(against: Baselines(production: .init(version: "1", environment: "production")))
        #expect(unreachable.verdict == .inconclusive && unreachable.detail.hasPrefix("window 1 of 1: Prometheus at http://127.0.0.1:9 is unreachable"), "\(unreachable.detail)")
        let none = await ComparisonCheck(name: "latency", comparison: c, model: "m", version: "2", environment: "staging", prometheusURL: nil)
            .run(against: Baselines(production: .init(version: "1", environment: "production")))
        #expect(none.verdict == .inconclusive && none.detail.contains("set 'url' on the comparison or PROMETHEUS_URL"))
    }
}
