import Foundation
import Testing
import SluiceTestSupport

/// `environments:` on the branch target: a version that passes the gate goes to staging, is
/// checked there, and reaches production only when its checks pass, its soak time is over and
/// (for `promote: manual`) someone approved it; a failure stops it and production keeps its version.
@Suite struct EnvironmentChainTests {
    let sluice = RepositoryLayout.sluiceBinary

    static let manifest = """
        apiVersion: v1
        kind: ConfigMap
        metadata: { name: model-config }
        data: { version: "{{model.version}}", environment: "{{environment}}", replicas: "{{values.replicas}}" }
        """

    /// The smoke test a staging environment runs: it sees the environment's facts as variables
    /// and fails when the version's commit says so (`smoke.ok` missing).
    static let smoke = """
        set -e
        echo "smoke: $SLUICE_ENVIRONMENT version $SLUICE_MODEL_VERSION of $SLUICE_MODEL at $SLUICE_ENV_URL"
        test -f smoke.ok
        """

    static func spec(production: String = "", staging: String = "", checks: String = "") -> String {
        GateFlowTests.spec + """

            environments:
              - name: staging
                manifests: manifests/
                namespace: ml-staging
                values: { replicas: 1, url: "http://staging.example.com" }
                verify:
                  - { name: smoke, run: "sh tests/smoke.sh" }
            \(checks)\(staging)
              - name: production
                manifests: manifests/
                namespace: ml
                values: { replicas: 3 }
            \(production)
            """
    }

    func repository(_ spec: String = spec(), smokeOK: Bool = true) throws -> TestRepository {
        let repo = try TestRepository()
        var files = ["sluice.yaml": spec, "policies/p.yaml": GateFlowTests.policy, "data/d.csv": GateFlowTests.data(0),
                     "schemas/d.yaml": "columns:\n  x: { type: integer }\n  kind: { type: string }\n", "quality.json": GateFlowTests.quality(0.9),
                     "manifests/config.yaml": Self.manifest, "tests/smoke.sh": Self.smoke]
        if smokeOK { files["smoke.ok"] = "" }
        try repo.commit("first model", files: files)
        return repo
    }

    func run(_ repo: TestRepository, _ state: TemporaryDirectory, _ args: [String] = ["run"], env: [String: String] = [:]) throws -> ProcessResult {
        try ProcessRunner.run(sluice, args + ["--repo", repo.path, "--state", state.path], environment: env)
    }

    func branch(_ repo: TestRepository, _ environment: String) throws -> String {
        let namespace = environment == "production" ? "ml" : "ml-\(environment)"
        return try repo.git(["show", "sluice/env/\(environment):\(namespace)/configmap-model-config.yaml"]).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test func aVersionVerifiedInStagingIsPromotedToProduction() throws {
        let repo = try repository()
        let state = TemporaryDirectory(prefix: "sluice-state")
        let result = try run(repo, state)
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
        #expect(result.stdout.contains("environments: in production (production)"), "\(result.stdout)")
        #expect(try branch(repo, "staging").contains("replicas: '1'"))
        let production = try branch(repo, "production")
        #expect(production.contains("version: '1'") && production.contains("replicas: '3'") && production.contains("environment: 'production'"), "\(production)")

        let steps = try run(repo, state, ["environments"]).stdout
        #expect(steps.contains("version 1  staging  entered  the gate passed"), "\(steps)")
        #expect(steps.contains("version 1  staging  verified  smoke passed"), "\(steps)")
        #expect(steps.contains("version 1  production  entered  verified in staging  (sluice run 1)"), "\(steps)")
        let log = try run(repo, state, ["rollback", "--list"]).stdout
        #expect(log.contains("verified in staging"), "the promotion log says why: \(log)")
    }

    @Test func aFailingSmokeTestStopsTheVersionInStagingAndProductionKeepsItsVersion() throws {
        let repo = try repository()
        let state = TemporaryDirectory(prefix: "sluice-state")
        #expect(try run(repo, state).status == 0)
        try repo.remove("smoke.ok")
        try repo.commit("better model, broken serving", files: ["quality.json": GateFlowTests.quality(0.95), "data/d.csv": GateFlowTests.data(1)])
        let second = try run(repo, state)
        #expect(second.status == 1, "\(second.stdout)\n\(second.stderr)")
        #expect(second.stdout.contains("environments: failed in staging: check smoke failed: exited with code 1")
                && second.stdout.contains("smoke: staging version 2 of demo at http://staging.example.com"), "\(second.stdout)")
        #expect(try branch(repo, "staging").contains("version: '2'"), "staging runs the failed version (where it was checked)")
        #expect(try branch(repo, "production").contains("version: '1'"), "production is untouched")
        let report = try run(repo, state, ["report", "2"]).stdout
        #expect(report.contains("environments now: staging runs version 1, production runs version 1")
                && report.contains("environments: failed in staging: check smoke failed"), "the report says where things stand: \(report)")
        let status = try run(repo, state, ["environments"]).stdout
        #expect(status.contains("version 2  staging  failed  check smoke failed"), "\(status)")
        let overview = try run(repo, state, ["status"]).stdout
        #expect(overview.contains("staging: runs version 2; last step: version 2 failed (check smoke failed")
                && overview.contains("demo: version 1 in production"), "\(overview)")
        // A failed version is not approved on.
        let approve = try run(repo, state, ["approve", "demo", "2", "--to", "production", "--reason", "try"])
        #expect(approve.status == 2 && approve.stderr.contains("failed in staging"), "\(approve.stderr)")
    }

    @Test func manualPromotionWaitsForApproval() throws {
        let repo = try repository(Self.spec(production: "    promote: manual\n"))
        let state = TemporaryDirectory(prefix: "sluice-state")
        let result = try run(repo, state)
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
        #expect(result.stdout.contains("environments: waiting for approval to enter production: sluice approve demo 1 --to production"), "\(result.stdout)")
        #expect(throws: (any Error).self) { try branch(repo, "production") }

        let wrong = try run(repo, state, ["approve", "demo", "1", "--to", "prodution", "--reason", "typo"])
        #expect(wrong.status == 2 && wrong.stderr.contains("did you mean 'production'"), "\(wrong.stderr)")
        let approved = try run(repo, state, ["approve", "demo", "1", "--to", "production", "--reason", "checked the dashboards", "--actor", "ana"])
        #expect(approved.status == 0, "\(approved.stdout)\n\(approved.stderr)")
        #expect(approved.stdout.contains("environments: in production"), "\(approved.stdout)")
        #expect(try branch(repo, "production").contains("version: '1'"))
        let steps = try run(repo, state, ["environments"]).stdout
        #expect(steps.contains("version 1  production  awaiting-approval") && steps.contains("version 1  production  approved  approved  (ana: checked the dashboards)"), "\(steps)")
        let log = try run(repo, state, ["rollback", "--list"]).stdout
        #expect(log.contains("approved by ana: checked the dashboards"), "\(log)")
    }

    @Test func soakTimeIsRespected() throws {
        let repo = try repository(Self.spec(staging: "    soak: 3s\n"))
        let state = TemporaryDirectory(prefix: "sluice-state")
        let started = Date()
        let result = try run(repo, state)
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
        #expect(result.stdout.contains("environments: soaking in staging until"), "\(result.stdout)")
        var promotedAt: Date?
        try waitUntil("the soak to end and production to take the version", timeout: 30) {
            let advanced = try run(repo, state, ["environments", "--advance"]).stdout
            if advanced.contains("version 1: in production") { promotedAt = Date() }
            return promotedAt != nil
        }
        let soaked = try #require(promotedAt).timeIntervalSince(started)
        #expect(soaked >= 3, "production only after the 3 s soak (\(soaked) s)")
        #expect(try branch(repo, "production").contains("version: '1'"))
    }

    @Test func environmentsAreValidatedWithLocatedErrors() throws {
        let dir = TemporaryDirectory(prefix: "sluice-env-spec")
        dir.write("sluice.yaml", """
            version: 1
            stages: { train: { run: "true", metrics: m.json } }
            gate: { policy: p.yaml }
            deploy: { manifests: manifests/ }
            environments:
              - { name: staging, manifests: manifests/, promote: manul, soak: soon }
              - name: staging
                manifests: manifests/
                verify:
                  - { name: errors, prometheus: { query: 'sum(errors_total)' } }
                  - { name: both, run: "true", prometheus: { query: x, max: 1 } }
                strategy: { canary: { steps: [10, 50] } }
            """)
        dir.write("p.yaml", "rules:\n  - { metric: accuracy, direction: higher, min: 0.5 }\n")
        try FileManager.default.createDirectory(atPath: dir.path + "/manifests", withIntermediateDirectories: true)
        let r = try ProcessRunner.run(sluice, ["validate", dir.path])
        #expect(r.status == 1)
        let out = r.stdout + r.stderr
        for expected in ["sluice.yaml:5:1: error: 'environments' and 'deploy' are both set",
                         "sluice.yaml:6:54: error: unknown promotion 'manul'", "did you mean 'manual'",
                         "sluice.yaml:6:67: error: 'soon' is not a duration",
                         "sluice.yaml:7:11: error: environment 'staging' is listed twice",
                         "has no bound", "sets both 'run' and 'prometheus'", "a canary needs the kubernetes target", "the last canary step must be 100"] {
            #expect(out.contains(expected), "\(expected)\n\(out)")
        }
    }
}

extension EnvironmentChainTests {
    /// A real `prometheus` scrapes a model-server stub that exports per-version request and
    /// error counters. Staging's analysis (error ratio at most 1 %, 3 measurements a second
    /// apart) lets a healthy version through, stops one whose errors cross the bound with the
    /// measured values, and calls a version without any series inconclusive, never a pass.
    @Test(.enabled(if: RequiredTools.run(whenPresent: PrometheusServer.isInstalled), "prometheus is not installed: SKIPPED"))
    func stagingAnalysisOfLiveMetricsDecides() throws {
        let exporter = try MetricsExporter("""
            model_requests_total{version="1"} 1000
            model_errors_total{version="1"} 2
            model_requests_total{version="2"} 1000
            model_errors_total{version="2"} 150
            """)
        let prometheus = try PrometheusServer(scraping: exporter.target)
        try prometheus.waitFor("model_errors_total{version=\"2\"}", value: "150")
        let analysis = """
                  - name: error-rate
                    prometheus:
                      query: 'sum(model_errors_total{version="{{model.version}}"}) / sum(model_requests_total{version="{{model.version}}"})'
                      max: 0.01
                      interval: 1s
                      count: 3
                      failureLimit: 1

            """
        let repo = try repository(Self.spec(checks: analysis))
        let state = TemporaryDirectory(prefix: "sluice-state")
        let env = ["PROMETHEUS_URL": prometheus.url]

        let first = try run(repo, state, env: env)
        #expect(first.status == 0, "\(first.stdout)\n\(first.stderr)")
        #expect(first.stdout.contains("environments: in production"), "\(first.stdout)")
        let steps = try run(repo, state, ["environments"]).stdout
        #expect(steps.contains("version 1  staging  verified  smoke passed, error-rate passed"), "\(steps)")

        // Version 2's error ratio is 15 %: two failed measurements, more than failureLimit 1.
        try repo.commit("model 2", files: ["quality.json": GateFlowTests.quality(0.95), "data/d.csv": GateFlowTests.data(1)])
        let second = try run(repo, state, env: env)
        #expect(second.status == 1, "\(second.stdout)\n\(second.stderr)")
        #expect(second.stdout.contains("failed in staging: check error-rate failed") && second.stdout.contains("0.15 (> max 0.01), 0.15 (> max 0.01)")
                && second.stdout.contains("2 failed, limit 1"), "\(second.stdout)")
        #expect(try branch(repo, "production").contains("version: '1'"), "production keeps version 1")
        // The measurements are a chart of the run: each one against the bound that judged it.
        let charts = TemporaryDirectory(prefix: "sluice-charts")
        _ = try run(repo, state, ["report", "2", "--charts", charts.path])
        let svg = try String(contentsOfFile: charts.path + "/environment_staging-error-rate.svg", encoding: .utf8)
        #expect(svg.contains("<title>error-rate in staging: failed</title>") && svg.contains("max 0.01"), "\(svg.prefix(600))")
        #expect(svg.components(separatedBy: "data-y=\"0.15\" data-marker=\"cross\"").count == 3, "two measurements over the bound: \(svg)")

        // Version 3 has no series at all: inconclusive, and it does not move on.
        try repo.commit("model 3", files: ["quality.json": GateFlowTests.quality(0.96), "data/d.csv": GateFlowTests.data(2)])
        let third = try run(repo, state, env: env)
        #expect(third.status == 1, "\(third.stdout)\n\(third.stderr)")
        #expect(third.stdout.contains("check error-rate inconclusive") && third.stdout.contains("no data, no data, no data"), "\(third.stdout)")
        #expect(try branch(repo, "production").contains("version: '1'"))
    }
}

extension EnvironmentChainTests {
    /// Under `sluice watch`: the controller's polls move a version on once its soak in staging is
    /// over; production (`promote: manual`) waits for an approval through the token-protected
    /// API; the model's page shows each step.
    @Test func theControllerMovesVersionsOnAndTakesApprovalsOverTheAPI() throws {
        let repo = try repository(Self.spec(production: "    promote: manual\n", staging: "    soak: 2s\n"))
        let dir = TemporaryDirectory()
        let config = dir.write("controller.yaml", """
            listen: 127.0.0.1:0
            interval: 1s
            token-env: SLUICE_TEST_API_TOKEN
            repositories:
              - { name: demo, url: \(repo.path) }
            """)
        let state = dir.path + "/state"
        let watch = try BackgroundProcess(sluice, ["watch", "--config", config, "--state", state], readyPrefix: "sluice: listening on 127.0.0.1:",
                                          environment: ["SLUICE_TEST_API_TOKEN": "t0ken"], stderrFile: dir.path + "/controller.log")
        let base = "http://127.0.0.1:\(watch.readyLine.split(separator: ",")[0])"
        func steps() throws -> String { try ProcessRunner.run(sluice, ["environments", "--repo", repo.path, "--state", state, "--model", "demo"]).stdout }

        try waitUntil("the soak to end and production to wait for an approval") { try steps().contains("version 1  production  awaiting-approval") }
        let log = try steps()
        #expect(log.contains("version 1  staging  verified") && log.contains("(sluice watch)"), "the controller took the step after the soak: \(log)")

        // The model page offers the approval (a form with the token), which checks the token.
        let waiting = try ProcessRunner.run("curl", ["-s", base + "/models/demo"]).stdout
        #expect(waiting.contains("action=\"/models/demo/versions/1/approve\"") && waiting.contains("Approve into production"), "\(waiting)")
        let wrongToken = try ProcessRunner.run("curl", ["-s", "-X", "POST", base + "/models/demo/versions/1/approve", "-d", "to=production&reason=x&token=nope"])
        #expect(wrongToken.stdout.contains("the API token is wrong"), "\(wrongToken.stdout)")
        let refused = try ProcessRunner.run("curl", ["-s", "-X", "POST", base + "/api/models/demo/versions/1/approve", "-H", "Content-Type: application/json",
                                                     "-d", #"{"to": "production", "reason": "ok"}"#])
        #expect(refused.stdout.contains("Authorization: Bearer"), "\(refused.stdout)")
        let approved = try ProcessRunner.run("curl", ["-s", "-X", "POST", base + "/api/models/demo/versions/1/approve", "-H", "Authorization: Bearer t0ken",
                                                      "-H", "Content-Type: application/json", "-d", #"{"to": "production", "reason": "error budget fine", "actor": "ana"}"#])
        #expect(approved.stdout.contains("\"position\":\"in production (production)\""), "\(approved.stdout)")
        #expect(try branch(repo, "production").contains("version: '1'"))
        let page = try ProcessRunner.run("curl", ["-s", base + "/models/demo"]).stdout
        #expect(page.contains("<h2>Environments</h2>") && page.contains("awaiting-approval") && page.contains("ana (api): error budget fine"), "\(page)")
        #expect(page.contains("<td>production staging </td>") || page.contains("<td>staging production </td>"), "version 1 runs in both: \(page)")
        watch.stop()
    }
}

extension EnvironmentChainTests {
    static let deployment = """
        apiVersion: apps/v1
        kind: Deployment
        metadata: { name: server }
        spec:
          replicas: 3
          selector: { matchLabels: { app: server } }
          template:
            metadata: { labels: { app: server }, annotations: { sluice.dev/version: "{{model.version}}" } }
            spec: { containers: [ { name: c, image: "registry.example.com/server:{{image.tag}}" } ] }
        ---
        apiVersion: v1
        kind: Service
        metadata: { name: server }
        spec: { selector: { app: server }, ports: [ { port: 80 } ] }
        """

    /// A repository whose version 1 goes to staging (a branch), then to production on
    /// Kubernetes (namespace `ml`) as a canary at 25, 50 and 100 %, each step `pause` long and
    /// analysed on Prometheus (`PROMETHEUS_URL`): the version's error ratio at most 0.01.
    func canaryRepository(pause: String) throws -> TestRepository {
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
                    steps: [25, 50, 100]
                    pause: \(pause)
                    analysis:
                      - name: error-rate
                        prometheus: { query: 'sum(errors_total{version="{{model.version}}"}) / sum(requests_total{version="{{model.version}}"})', max: 0.01, interval: 1s, count: 2 }
            """
        let repo = try TestRepository()
        try repo.commit("first", files: ["sluice.yaml": spec, "policies/p.yaml": GateFlowTests.policy, "data/d.csv": GateFlowTests.data(0),
                                         "schemas/d.yaml": "columns:\n  x: { type: integer }\n  kind: { type: string }\n",
                                         "quality.json": GateFlowTests.quality(0.9), "manifests/app.yaml": Self.deployment,
                                         "staging/config.yaml": Self.manifest])
        return repo
    }

    /// Production on the emulator with a canary: version 2's error ratio crosses the bound at
    /// the first step, so the canary is removed and the stable version 1 keeps serving;
    /// version 3 stays healthy through 25 % and 50 % and is promoted at 100 %.
    @Test(.enabled(if: RequiredTools.run(whenPresent: PrometheusServer.isInstalled), "prometheus is not installed: SKIPPED"))
    func aCanaryIsAbortedWhenItsErrorsRiseAndPromotedWhenHealthy() throws {
        let k = try KubeEmulator(namespace: "ml")
        let exporter = try MetricsExporter("""
            requests_total{version="2"} 1000
            errors_total{version="2"} 150
            requests_total{version="3"} 1000
            errors_total{version="3"} 1
            """)
        let prometheus = try PrometheusServer(scraping: exporter.target)
        try prometheus.waitFor("errors_total{version=\"3\"}", value: "1")
        let repo = try canaryRepository(pause: "1s")
        let state = TemporaryDirectory(prefix: "sluice-state")
        let env = ["KUBECONFIG": k.kubeconfig, "PROMETHEUS_URL": prometheus.url]
        func version(of name: String) throws -> String {
            try k.kubectl(["-n", "ml", "get", "deployment", name, "-o", "jsonpath={.spec.template.metadata.annotations.sluice\\.dev/version}"]).stdout
        }
        func deployments() throws -> String { try k.kubectl(["-n", "ml", "get", "deployments", "-o", "name"]).stdout }
        func advance() throws -> String { try run(repo, state, ["environments", "--advance"], env: env).stdout }

        // Version 1: production runs nothing yet, so it goes in at once.
        let first = try run(repo, state, env: env)
        #expect(first.status == 0 && first.stdout.contains("environments: in production"), "\(first.stdout)\n\(first.stderr)")
        #expect(try version(of: "server") == "1")

        // Version 2: a canary at 25 % (1 pod next to 3), then its analysis fails: aborted.
        try repo.commit("model 2", files: ["quality.json": GateFlowTests.quality(0.95), "data/d.csv": GateFlowTests.data(1)])
        let second = try run(repo, state, env: env)
        #expect(second.stdout.contains("environments: canary at 25 % in production"), "\(second.stdout)\n\(second.stderr)")
        #expect(try version(of: "server-canary") == "2" && version(of: "server") == "1")
        var aborted = ""
        try waitUntil("the canary's analysis") { aborted = try advance(); return aborted.contains("version 2: failed") }
        #expect(aborted.contains("canary aborted at 25 %: check error-rate failed") && aborted.contains("0.15 (> max 0.01)"), "\(aborted)")
        #expect(try !deployments().contains("server-canary"), "the canary is removed")
        #expect(try version(of: "server") == "1", "the stable version kept serving")

        // Version 3: healthy through 25 % and 50 %, promoted at 100 %.
        try repo.commit("model 3", files: ["quality.json": GateFlowTests.quality(0.96), "data/d.csv": GateFlowTests.data(2)])
        let third = try run(repo, state, env: env)
        #expect(third.stdout.contains("canary at 25 % in production"), "\(third.stdout)\n\(third.stderr)")
        try waitUntil("the canary to reach 100 %", timeout: 60) { try advance().contains("version 3: in production") }
        let left = try deployments()
        #expect(try version(of: "server") == "3" && !left.contains("server-canary"), "\(left)")
        let steps = try run(repo, state, ["environments"]).stdout
        #expect(steps.contains("version 3  production  canary  25 %: server-canary: 1 pod next to 3 stable (25 %)")
                && steps.contains("version 3  production  canary  50 %: server-canary: 3 pods next to 3 stable (50 %)")
                && steps.contains("version 3  production  entered  verified in staging (canary reached 100 % after error-rate passed)"), "\(steps)")
    }
}
