import Foundation
import Testing
import SluiceTestSupport

/// A canary judged against the stable version it runs beside, on the emulator, with a real
/// Prometheus scraping both versions' latency histograms: version 2 answers twice as slowly as
/// version 1, so its canary is aborted with the test's p-value in the step log and a chart of
/// both versions' samples; version 3 answers as fast and is promoted at 100 %.
@Suite struct CanaryComparisonTests {
    let sluice = RepositoryLayout.sluiceBinary

    @Test(.enabled(if: RequiredTools.run(whenPresent: PrometheusServer.isInstalled), "prometheus is not installed: SKIPPED"))
    func aSlowerCanaryIsAbortedAndAnEqualOneIsPromoted() throws {
        let k = try KubeEmulator(namespace: "ml")
        let exporter = try LatencyExporter(["1": .init(mean: 0.1), "2": .init(mean: 0.2), "3": .init(mean: 0.1)])
        let prometheus = try PrometheusServer(scraping: exporter.target)
        let spec = GateFlowTests.spec + """

            environments:
              - name: staging
                manifests: staging/
                values: { replicas: 1 }
              - name: production
                target: kubernetes
                manifests: manifests/
                namespace: ml
                timeout: 30s
                strategy:
                  canary:
                    steps: [25, 100]
                    pause: 1s
                    analysis:
                      - name: latency
                        compare:
                          baseline: stable
                          query: '\(LatencyExporter.p90)'
                          test: mann-whitney
                          max-relative-change: 0.5
                          interval: 12s
                          step: 1s
            """
        let repo = try TestRepository()
        try repo.commit("first", files: ["sluice.yaml": spec, "policies/p.yaml": GateFlowTests.policy, "data/d.csv": GateFlowTests.data(0),
                                         "schemas/d.yaml": "columns:\n  x: { type: integer }\n  kind: { type: string }\n",
                                         "quality.json": GateFlowTests.quality(0.9), "manifests/app.yaml": EnvironmentChainTests.deployment,
                                         "staging/config.yaml": EnvironmentChainTests.manifest])
        let state = TemporaryDirectory(prefix: "sluice-state")
        let env = ["KUBECONFIG": k.kubeconfig, "PROMETHEUS_URL": prometheus.url]
        func run(_ args: [String]) throws -> ProcessResult {
            try ProcessRunner.run(sluice, args + ["--repo", repo.path, "--state", state.path], environment: env)
        }
        func version(of name: String) throws -> String {
            try k.kubectl(["-n", "ml", "get", "deployment", name, "-o", "jsonpath={.spec.template.metadata.annotations.sluice\\.dev/version}"]).stdout
        }

        let first = try run(["run"])
        #expect(first.status == 0 && first.stdout.contains("environments: in production"), "\(first.stdout)\n\(first.stderr)")
        // Enough history for the rate windows; a loaded machine may miss scrapes for a while, so the wait is long.
        try prometheus.waitUntil(#"count_over_time(http_duration_seconds_count{version="1"}[60s])"#, isAtLeast: 16, timeout: 120)

        try repo.commit("model 2", files: ["quality.json": GateFlowTests.quality(0.95), "data/d.csv": GateFlowTests.data(1)])
        let second = try run(["run"])
        #expect(second.stdout.contains("environments: canary at 25 % in production"), "\(second.stdout)\n\(second.stderr)")
        var aborted = ""
        try waitUntil("the canary's comparison") { aborted = try run(["environments", "--advance"]).stdout; return aborted.contains("version 2: failed") }
        #expect(aborted.contains("canary aborted at 25 %: check latency failed") && aborted.contains("(lower is better): version 2: ")
                && aborted.contains("vs stable version 1: ") && aborted.contains("Mann–Whitney U ") && aborted.contains(": worse"), "\(aborted)")
        #expect(try version(of: "server") == "1", "the stable version kept serving")
        let steps = try run(["environments"]).stdout
        #expect(steps.contains("version 2  production  failed") && steps.contains("p = "), "the step log keeps the numbers: \(steps)")
        let charts = TemporaryDirectory(prefix: "sluice-charts")
        _ = try run(["report", "2", "--charts", charts.path])
        let svg = try String(contentsOfFile: charts.path + "/environment_production-latency.svg", encoding: .utf8)
        #expect(svg.contains("<title>latency in production: version 2 vs stable 1, failed, p = ") && svg.contains("mean of 2"), "\(svg.prefix(600))")

        try repo.commit("model 3", files: ["quality.json": GateFlowTests.quality(0.96), "data/d.csv": GateFlowTests.data(2)])
        _ = try run(["run"])
        try waitUntil("the canary to reach 100 %", timeout: 60) { try run(["environments", "--advance"]).stdout.contains("version 3: in production") }
        #expect(try version(of: "server") == "3")
        let promoted = try run(["environments"]).stdout
        #expect(promoted.contains("version 3  production  entered  verified in staging (canary reached 100 % after latency passed (mean "), "\(promoted)")
    }
}
