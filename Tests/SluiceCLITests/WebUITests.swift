import Foundation
import Testing
import SluiceTestSupport

/// The web UI in a real headless Chromium at 1280 px and at a 390 px phone width: each page
/// shows what a reviewer looks for first, nothing sticks out sideways, no emoji, and every page
/// is captured as a full-page screenshot in `.build/screenshots` (or `$SLUICE_SCREENSHOTS`).
@Suite struct WebUITests {
    let sluice = RepositoryLayout.sluiceBinary

    static var screenshots: String {
        ProcessInfo.processInfo.environment["SLUICE_SCREENSHOTS"] ?? RepositoryLayout.root() + "/.build/screenshots"
    }

    struct Layout {
        let vw: Int
        let scrollWidth: Int
        let wide: [String]
        let broken: [String]
        let firstHeading: String
        let text: String
        let emoji: Bool

        init(_ result: [String: Any]) throws {
            let json = try #require((result["value"] as? String).flatMap { try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] },
                                    "no layout from the page: \(result)")
            vw = json["vw"] as? Int ?? 0
            scrollWidth = json["scrollWidth"] as? Int ?? 0
            wide = json["wide"] as? [String] ?? []
            broken = json["broken"] as? [String] ?? ["(the layout script reported no 'broken' list)"]
            firstHeading = json["firstHeading"] as? String ?? ""
            text = json["text"] as? String ?? ""
            emoji = json["emoji"] as? Bool ?? true
        }
    }

    @Test(.enabled(if: RequiredTools.run(whenPresent: Browser.chromium != nil), "chromium is not installed (apt-get install chromium): SKIPPED"))
    func pagesPutTheVerdictFirstAndFitAPhone() throws {
        let fifos = TemporaryDirectory(prefix: "sluice-live")
        let (first, second) = (fifos.path + "/epoch-1-done", fifos.path + "/epoch-2-done")
        for fifo in [first, second] { try ProcessRunner.run("mkfifo", [fifo]) }
        let repo = try TestRepository()
        let deploy = "\ndeploy: { manifests: manifests/, target: branch, environment: staging, namespace: ml }\n"
        // The evaluate stage also writes a confusion matrix and a ROC curve (declared plots).
        let spec = GateFlowTests.spec
            .replacingOccurrences(of: "cp quality.json metrics.json", with: "cp quality.json metrics.json && mkdir -p plots && cp plot-data/*.csv plots/")
            .replacingOccurrences(of: "    metrics: metrics.json\n", with: """
                    metrics: metrics.json
                    plots:
                      - { file: plots/confusion.csv, x: actual, y: predicted, template: confusion, title: Confusion matrix }
                      - { file: plots/roc.csv, x: fpr, y: tpr, title: ROC }

                """)
        try repo.commit("first model", files: [
            "sluice.yaml": spec + deploy,
            "plot-data/confusion.csv": "actual,predicted\ncat,cat\ncat,cat\ndog,dog\ndog,cat\n", "plot-data/roc.csv": "fpr,tpr\n0,0\n0.1,0.8\n1,1\n",
            "manifests/app.yaml": DeployTests.manifest, "policies/p.yaml": GateFlowTests.policy, "data/d.csv": GateFlowTests.data(0),
            // Drift warns (and is drawn) but does not fail the run: the rejection below is the metric's.
            "schemas/d.yaml": "columns:\n  x: { type: integer }\n  kind: { type: string }\ndrift:\n  psi: { warn: 0.1, fail: 100 }\n  ks: { warn: 0.1, fail: 2 }\n",
            "quality.json": GateFlowTests.quality(0.9),
        ])
        let state = TemporaryDirectory(prefix: "sluice-state")
        func run() throws { _ = try ProcessRunner.run(sluice, ["run", "--repo", repo.path, "--state", state.path]) }
        try run()  // 1: promoted
        // Worse, on data whose x piles up at the low end (drift against the production model's data).
        let skewed = "x,kind\n" + (0..<200).map { "\(($0 * 7) % 100 / ($0 % 2 == 0 ? 4 : 1)),\($0 % 3 == 0 ? "a" : "b")" }.joined(separator: "\n") + "\n"
        try repo.commit("worse", files: ["data/d.csv": skewed, "quality.json": GateFlowTests.quality(0.85),
                                         "plot-data/confusion.csv": "actual,predicted\ncat,dog\ncat,cat\ndog,cat\ndog,cat\n",
                                         "plot-data/roc.csv": "fpr,tpr\n0,0\n0.4,0.6\n1,1\n"])
        try run()  // 2: rejected
        try repo.commit("better, two replicas", files: ["quality.json": GateFlowTests.quality(0.95),
                                                        "manifests/app.yaml": DeployTests.manifest.replacingOccurrences(of: "spec:\n  template:", with: "spec:\n  replicas: 2\n  template:")])
        try run()  // 3: promoted, deployed with a diff

        let dir = TemporaryDirectory()
        let config = dir.write("controller.yaml", "listen: 127.0.0.1:0\ninterval: 1s\nrepositories:\n  - { name: demo, url: \(repo.path) }\n")
        let watch = try BackgroundProcess(sluice, ["watch", "--config", config, "--state", state.path], readyPrefix: "sluice: listening on 127.0.0.1:")
        let base = "http://127.0.0.1:\(watch.readyLine.split(separator: ",")[0])"
        try waitUntil("the controller to report the staging environment") {
            try ProcessRunner.run("curl", ["-s", base + "/repositories/demo"]).stdout.contains("<td>staging</td>")
        }
        // A new stage under the controller: it prints, waits for the test, prints again.
        let live = spec.replacingOccurrences(of: "stages:\n", with: """
            stages:
              live:
                run: [sh, -c, "echo 'epoch 1: loss 0.91'; cat \(first) > /dev/null; echo 'epoch 2: loss 0.42'; cat \(second) > /dev/null; echo done"]

            """)
        try repo.commit("live stage", files: ["sluice.yaml": live + deploy])
        var liveRun: Int?
        try waitUntil("the live stage to print its first epoch") {
            let runs = try ProcessRunner.run(sluice, ["runs", "--repo", repo.path, "--state", state.path, "--format", "json"]).stdout
            let list = (try JSONSerialization.jsonObject(with: Data(runs.utf8)) as? [[String: Any]]) ?? []
            liveRun = list.compactMap { $0["run"] as? [String: Any] }.first { $0["status"] as? String == "running" }?["id"] as? Int
            guard let liveRun else { return false }
            return try ProcessRunner.run("curl", ["-s", "\(base)/runs/\(liveRun)"]).stdout.contains("epoch 1: loss 0.91")
        }
        let running = try #require(liveRun)

        try FileManager.default.createDirectory(atPath: Self.screenshots, withIntermediateDirectories: true)
        let pages: [(name: String, path: String)] = [
            ("index", "/"), ("repository", "/repositories/demo"), ("run-rejected", "/runs/2"), ("run-promoted-deploy-diff", "/runs/3"),
            ("run-live-log", "/runs/\(running)"), ("model", "/models/demo"),
        ]
        var visits: [Browser.Page] = []
        for (name, path) in pages {
            for width in [1280, 390] {
                let isLive = name == "run-live-log"
                visits.append(Browser.Page(url: base + path, width: width,
                                           afterLoad: isLive && width == 1280 ? ["sh", "-c", "echo go > \(first)"] : nil,
                                           until: isLive ? "document.body.innerText.includes('epoch 2: loss 0.42')" : nil,
                                           script: Browser.layoutScript, screenshot: "\(Self.screenshots)/\(name)-\(width).png"))
            }
        }
        let results = try Browser.visit(visits)
        try #require(results.count == visits.count)
        var layouts: [String: Layout] = [:]
        for (i, visit) in visits.enumerated() {
            let layout = try Layout(results[i])
            let name = "\(pages[i / 2].name) at \(visit.width) px"
            layouts[name] = layout
            #expect(layout.vw == visit.width, "\(name): viewport")
            #expect(layout.scrollWidth <= layout.vw && layout.wide.isEmpty, "\(name) scrolls sideways: \(layout.scrollWidth) px; \(layout.wide)")
            #expect(!layout.emoji, "\(name) uses emoji for icons")
            if visit.width == 1280 { #expect(layout.broken.isEmpty, "\(name) breaks words over two lines: \(layout.broken)") }
            let size = (try? FileManager.default.attributesOfItem(atPath: visit.screenshot!)[.size] as? Int) ?? 0
            #expect(size > 5_000, "\(name): screenshot is \(size) bytes")
            if pages[i / 2].name == "run-live-log" { #expect(results[i]["until"] as? Bool == true, "\(name): the second epoch arrived without a reload") }
        }

        let rejected = try #require(layouts["run-rejected at 1280 px"])
        #expect(rejected.firstHeading.hasPrefix("h1: Rejected"), "\(rejected.firstHeading)")
        #expect(rejected.text.contains("accuracy = 0.85 (production 0.90): worse than production by 0.05"), "the deciding rule with both values: \(rejected.text.prefix(600))")
        let promoted = try #require(layouts["run-promoted-deploy-diff at 390 px"])
        #expect(promoted.firstHeading.hasPrefix("h1: Promoted"))
        #expect(promoted.text.contains("+ spec.replicas: 2"), "\(promoted.text)")
        #expect(promoted.text.contains("~ spec.template.spec.containers[name=server].image: registry.example.com/demo:"), "field paths in the deploy diff")
        let index = try #require(layouts["index at 1280 px"])
        #expect(index.text.contains("reject") && index.text.contains("promote"), "verdicts next to run states")
        let repository = try #require(layouts["repository at 390 px"])
        #expect(repository.text.contains("staging") && repository.text.contains("demo v3"), "environments with the version each runs: \(repository.text)")
        let model = try #require(layouts["model at 1280 px"])
        #expect(model.text.contains("In production: version 3.") && model.text.contains("Promotion log"))
        #expect(model.text.contains("Metrics of every candidate"), "\(model.text.prefix(400))")

        // The pictures: the rejected candidate marked as such on the model page, the rejected
        // run's plots over production's and its drifted column.
        let modelPage = try ProcessRunner.run("curl", ["-s", base + "/models/demo"]).stdout
        #expect(modelPage.contains("data-x=\"1.0\" data-y=\"0.85\" data-marker=\"cross\""), "run 2 is a cross at 0.85")
        let rejectedPage = try ProcessRunner.run("curl", ["-s", base + "/runs/2"]).stdout
        #expect(rejectedPage.contains("data-panel=\"production (run 1)\" data-actual=\"dog\" data-predicted=\"cat\" data-count=\"1\""))
        #expect(rejectedPage.contains("data-panel=\"run 2\" data-actual=\"dog\" data-predicted=\"cat\" data-count=\"2\""))
        #expect(rejectedPage.contains("<title>x: PSI "), "the drifted column's distributions are drawn")

        // The stage goes on: the run finishes, its page stops streaming.
        try ProcessRunner.run("sh", ["-c", "echo go > \(second)"])
        try waitUntil("the live run to finish") { !(try ProcessRunner.run("curl", ["-s", "\(base)/runs/\(running)"]).stdout.contains("data-live=")) }
        let csp = try ProcessRunner.run("curl", ["-sI", base + "/"]).stdout.lowercased()
        #expect(csp.contains("content-security-policy: default-src 'none'; style-src 'self'; script-src 'self'"))
        withExtendedLifetime(watch) {}
    }

    @Test func theControllersOwnMetricsCountWhatItDid() throws {
        let repo = try DeployTests().repository()
        let state = TemporaryDirectory(prefix: "sluice-state")
        _ = try ProcessRunner.run(sluice, ["run", "--repo", repo.path, "--state", state.path])
        // A commit the command line did not run, for the controller's first poll.
        try repo.commit("docs", files: ["README.md": "docs\n"])
        let dir = TemporaryDirectory()
        let config = dir.write("controller.yaml", "listen: 127.0.0.1:0\ninterval: 10m\nrepositories:\n  - { name: demo, url: \(repo.path) }\n")
        let watch = try BackgroundProcess(sluice, ["watch", "--config", config, "--state", state.path], readyPrefix: "sluice: listening on 127.0.0.1:")
        let base = "http://127.0.0.1:\(watch.readyLine.split(separator: ",")[0])"
        // The controller's own run of the new head: production's model already, so report-only.
        try waitUntil("the controller's verdict") {
            try ProcessRunner.run("curl", ["-s", base + "/metrics"]).stdout.contains("sluice_gate_verdicts_total{decision=\"report-only\"} 1")
        }
        _ = try ProcessRunner.run("curl", ["-s", base + "/runs/1"])
        let metrics = try ProcessRunner.run("curl", ["-s", base + "/metrics"]).stdout
        #expect(metrics.contains("sluice_pipeline_runs_total{repository=\"demo\",result=\"succeeded\"} 1"))
        #expect(metrics.contains("hb_requests{http_route=\"/runs/{id}\",http_request_method=\"GET\",http_response_status_code=\"200\"}"),
                "HTTP request metrics from Hummingbird's middleware: \(metrics)")
        withExtendedLifetime(watch) {}
    }
}
