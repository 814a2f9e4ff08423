import Foundation
import Testing
import SluiceTestSupport

/// The web UI in a real headless Chromium: each page loads, shows what it should, and is
/// captured as a screenshot (kept under $SLUICE_SCREENSHOTS when set).
@Suite struct WebUITests {
    let sluice = RepositoryLayout.sluiceBinary

    static var chromium: String? { ["chromium", "chromium-browser", "google-chrome"].first { ProcessRunner.has($0) } }

    func browser(_ args: [String]) throws -> ProcessResult {
        try ProcessRunner.run(Self.chromium!, ["--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                                                "--user-data-dir=\(NSTemporaryDirectory())sluice-chromium-\(UUID().uuidString.prefix(6))"] + args)
    }

    @Test(.enabled(if: RequiredTools.run(whenPresent: WebUITests.chromium != nil), "chromium is not installed (apt-get install chromium): SKIPPED"))
    func pagesRenderInChromium() throws {
        let repo = try TestRepository()
        try repo.commit("first model", files: [
            "sluice.yaml": GateFlowTests.spec + "\ndeploy: { manifests: manifests/, target: branch, environment: staging, namespace: ml }\n",
            "manifests/app.yaml": DeployTests.manifest, "policies/p.yaml": GateFlowTests.policy, "data/d.csv": GateFlowTests.data(0),
            "schemas/d.yaml": "columns:\n  x: { type: integer }\n  kind: { type: string }\n", "quality.json": GateFlowTests.quality(0.9),
        ])
        let state = TemporaryDirectory(prefix: "sluice-state")
        _ = try ProcessRunner.run(sluice, ["run", "--repo", repo.path, "--state", state.path])
        try repo.commit("better", files: ["quality.json": GateFlowTests.quality(0.93)])
        _ = try ProcessRunner.run(sluice, ["run", "--repo", repo.path, "--state", state.path])

        let dir = TemporaryDirectory()
        let config = dir.write("controller.yaml", "listen: 127.0.0.1:0\ninterval: 10m\nrepositories:\n  - { name: demo, url: \(repo.path) }\n")
        let watch = try BackgroundProcess(sluice, ["watch", "--config", config, "--state", state.path], readyPrefix: "sluice: listening on 127.0.0.1:")
        let base = "http://127.0.0.1:\(watch.readyLine.split(separator: ",")[0])"
        let shots = ProcessInfo.processInfo.environment["SLUICE_SCREENSHOTS"] ?? dir.path
        try FileManager.default.createDirectory(atPath: shots, withIntermediateDirectories: true)

        let pages: [(String, String, [String])] = [
            ("home", "/", ["<h1>Sluice</h1>", "href=\"/models/demo\"", "demo"]),
            ("run", "/runs/2", ["Sluice gate: ✅ promote", "<table>", "<th>Metric</th>", "Log: evaluate", "class=\"succeeded\"",
                                 "demo version 2 to staging", "Manifest diff", "~ deployment ml/demo-server"]),
            ("promotions", "/models/demo", ["promotion history", "<svg", "<polyline", "v2 promote"]),
        ]
        for (name, path, expected) in pages {
            let dom = try browser(["--dump-dom", base + path])
            #expect(dom.status == 0, "\(dom.stderr)")
            for text in expected { #expect(dom.stdout.contains(text), "\(path) lacks \(text)") }
            let file = "\(shots)/\(name).png"
            let shot = try browser(["--screenshot=\(file)", "--window-size=1280,1000", base + path])
            #expect(shot.status == 0, "\(shot.stderr)")
            let size = (try? FileManager.default.attributesOfItem(atPath: file)[.size] as? Int) ?? 0
            #expect(size > 10_000, "screenshot of \(path) is \(size) bytes")
        }
        // The controller's own reconcile of the head: production's model already, so report-only.
        try waitUntil("the controller's verdict") {
            try ProcessRunner.run("curl", ["-s", base + "/metrics"]).stdout.contains("sluice_gate_verdicts_total{decision=\"report-only\"} 1")
        }
        let metrics = try ProcessRunner.run("curl", ["-s", base + "/metrics"]).stdout
        #expect(metrics.contains("sluice_pipeline_runs_total{repository=\"demo\",result=\"succeeded\"} 1"))
        #expect(metrics.contains("hb_requests{http_route=\"/runs/{id}\",http_request_method=\"GET\",http_response_status_code=\"200\"}"),
                "HTTP request metrics from Hummingbird's middleware: \(metrics)")
        withExtendedLifetime(watch) {}
    }
}
