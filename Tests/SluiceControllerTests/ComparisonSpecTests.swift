import SluiceCore
import SluiceTestSupport
import Testing
@testable import SluiceController

/// `compare:` checks in `sluice.yaml`: what each setting decodes to, and a located error for
/// every setting that could never judge (no baseline to run beside, nothing to judge by, too
/// few samples, more points than Prometheus answers).
@Suite struct ComparisonSpecTests {
    static func spec(staging: String = "", canary: String = "", production: String = "") -> String {
        """
        version: 1
        stages:
          train: { run: "python train.py", outputs: [model.pkl], metrics: metrics.json }
        gate:
          model: model.pkl
          policy: policies/p.yaml
        environments:
          - name: staging
            manifests: manifests/
            verify:
        \(staging.isEmpty ? "      - { name: smoke, run: \"true\" }" : staging)
          - name: production
            target: kubernetes
            manifests: manifests/
            strategy:
              canary:
                steps: [50, 100]
                pause: 1m
                analysis:
        \(canary.isEmpty ? "          - { name: smoke, run: \"true\" }" : canary)
        \(production)
        """
    }

    func lines(_ text: String) -> [String] {
        DiagnosticRenderer.sorted(SpecLoader.load(bytes: Array(text.utf8), file: "sluice.yaml", paths: nil).diagnostics)
            .filter { $0.severity == .error }.map(DiagnosticRenderer.line)
    }

    let latency = #"histogram_quantile(0.9, sum by (le) (rate(http_duration_seconds_bucket{version=\"{{version}}\"}[1m])))"#

    @Test func aCanaryComparisonDecodesEverySetting() throws {
        let text = Self.spec(canary: """
                      - name: latency
                        compare: { baseline: stable, query: "\(latency)", direction: lower, test: mann-whitney, confidence: 0.99,
                                   max-relative-change: 0.1, interval: 2m, count: 5, step: 10s, min-samples: 20, url: "http://prom:9090" }
            """)
        let loaded = SpecLoader.load(bytes: Array(text.utf8), file: "sluice.yaml", paths: nil)
        #expect(lines(text) == [])
        let check = try #require(loaded.spec?.environments.last?.canary?.analysis.first)
        guard case .comparison(let c) = check.kind else { Issue.record("\(check.kind)"); return }
        #expect(c.baseline == .stable && c.direction == .lower && c.confidence == 0.99 && c.maxRelativeChange == 0.1)
        #expect(c.intervalSeconds == 120 && c.count == 5 && c.step == 10 && c.minSamples == 20 && c.url == "http://prom:9090")
        #expect(c.query(model: "m", version: "7", environment: "production").contains(#"{version="7"}"#))
        #expect(Comparison(baseline: .production, query: "q").step == 6, "a tenth of the default 1m interval")
    }

    @Test func baselinesThatCannotBeComparedWithAreLocated() {
        let stableInVerify = lines(Self.spec(staging: """
                  - { name: latency, compare: { baseline: stable, query: 'q{version="{{version}}"}', test: mann-whitney } }
            """))
        #expect(stableInVerify == ["sluice.yaml:11:47: error: 'baseline: stable' in check 'latency' of 'environments.staging.verify': only a canary runs beside a stable version; move the check under strategy.canary.analysis, or compare with 'baseline: production'"], "\(stableInVerify)")
        let productionInProduction = lines(Self.spec(production: """
                verify:
                  - { name: latency, compare: { baseline: production, query: 'q{version="{{version}}"}', test: mann-whitney } }
            """))
        #expect(productionInProduction.count == 1 && productionInProduction[0].contains("compares the version with itself"), "\(productionInProduction)")
        let unknown = lines(Self.spec(staging: """
                  - { name: latency, compare: { baseline: prod, query: 'q{version="{{version}}"}', test: mann-whitney } }
            """))
        #expect(unknown == ["sluice.yaml:11:47: error: unknown baseline 'prod'; use stable or production"], "\(unknown)")
    }

    @Test func aComparisonThatCouldNeverJudgeIsRefused() {
        func errors(_ compare: String) -> [String] {
            lines(Self.spec(staging: "      - { name: latency, compare: { baseline: production, \(compare) } }"))
        }
        #expect(errors(#"query: 'q{version="{{version}}"}'"#).first?.contains("has nothing to judge by; add 'test: mann-whitney' and/or 'max-relative-change: 0.1'") == true)
        #expect(errors("query: 'q', test: mann-whitney").first?.contains("does not name the version, so it would measure the same series for both") == true)
        #expect(errors(#"query: 'q{v="{{version}}"}', test: mann-whitney, confidence: 1.5"#).first?.contains("must be above 0.5 and below 1") == true)
        #expect(errors(#"query: 'q{v="{{version}}"}', test: t-test"#).first?.contains("unknown test 't-test'") == true)
        #expect(errors(#"query: 'q{v="{{version}}"}', test: mann-whitney, interval: 5s, step: 1s"#)
            == ["sluice.yaml:11:128: error: check 'latency' of 'environments.staging.verify' gathers at most 5 samples per version, fewer than min-samples 10: it could never pass; raise 'count' or 'interval', or lower 'step'"])
        #expect(errors(#"query: 'q{v="{{version}}"}', test: mann-whitney, interval: 1d, step: 1s"#).first?.contains("asks 86400 points per window; Prometheus answers at most 11000") == true)
        #expect(errors(#"query: 'q{v="{{version}}"}', max-relative-change: -1"#).first?.contains("must not be negative") == true)
        #expect(errors(#"query: 'q{v="{{version}}"}', test: mann-whitney, timeout: 1m"#).first?.contains("unknown key 'timeout'") == true)
    }
}
