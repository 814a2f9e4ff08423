import Foundation
import Hummingbird
import HummingbirdTesting
import Prometheus
import Testing
import SluiceCore
import SluiceServer
import SluiceStore
import SluiceTestSupport

/// The pictures on the web UI, in process: a run's charts inline and at their own address, the
/// model page's metric over every candidate.
@Suite struct ChartRouteTests {
    /// Two gated runs of model `m`: run 1 promoted (version 1), run 2 rejected below the bound,
    /// both with a confusion matrix.
    static func store(_ state: TemporaryDirectory) throws -> RunStore {
        let store = try RunStore(stateDirectory: state.path)
        for (n, accuracy, decision) in [(Int64(1), 0.93, Verdict.promote), (2, 0.71, .reject)] {
            let run = try store.insert(RunRecord(repository: "/repo", ref: "refs/heads/main", commit: "c\(n)", baseCommit: nil, trigger: "test",
                                                 status: .succeeded, createdAt: Double(n)), stages: [])
            var row = GateReport.MetricRow(metric: "accuracy", slice: nil, candidate: accuracy, production: n == 1 ? nil : 0.93, delta: nil,
                                           rule: "higher, min 0.85", passed: accuracy >= 0.85, reason: "")
            row.min = 0.85
            let report = GateReport(model: "m", repository: "/repo", ref: "refs/heads/main", commit: "c\(n)", run: run.id!, policy: "p.yaml",
                                    decision: decision, passed: decision == .promote,
                                    production: n == 1 ? nil : GateReport.Production(version: "1", commit: "c1", promotedAt: 1),
                                    metrics: [row], dataChecks: [], stages: [], datasetVersions: [:], parameters: [:], artifacts: [],
                                    deployChanges: nil, notes: [])
            try store.saveReport(try ReportRecord.gate(report, runID: run.id!))
            let plot = PlotData(stage: "evaluate", name: "Confusion", file: "plots/c.csv", template: "confusion", x: "actual", y: "predicted",
                                points: n == 1 ? [["a", "a"], ["b", "b"]] : [["a", "b"], ["b", "b"]])
            try store.saveReport(ReportRecord(runId: run.id!, stage: "evaluate", kind: PlotData.reportKind(file: plot.file), path: plot.file,
                                              content: String(decoding: try JSONEncoder().encode(plot), as: UTF8.self)))
            if n == 1 {
                _ = try store.registerVersion(model: "m", commit: "c1", runId: 1, metrics: "{\"accuracy\": 0.93}", datasetVersions: "{}",
                                              artifactDigest: nil, at: 1)
                _ = try store.appendPromotion(PromotionRecord(model: "m", version: "1", action: .promote, commit: "c1", runId: 1, previousVersion: nil,
                                                              actor: "test", reason: "gate", createdAt: 1), expectedVersion: nil)
            }
        }
        return store
    }

    @Test func aRunShowsItsChartsAndServesEachAsAnImage() async throws {
        let state = TemporaryDirectory(prefix: "sluice-charts")
        let server = ControllerServer(watchers: [:], secrets: [:], store: try Self.store(state), queueLimit: 10, metrics: PrometheusCollectorRegistry())
        try await Application(router: server.router()).test(.router) { client in
            try await client.execute(uri: "/runs/2", method: .get) { response in
                let page = String(buffer: response.body)
                #expect(response.status == .ok)
                #expect(page.contains("<h2>Charts</h2>") && page.contains("Confusion of stage evaluate, run 2 over production"), "\(page.prefix(300))")
                #expect(page.contains("href=\"/runs/2/charts/evaluate-Confusion.svg\""))
                #expect(page.contains("data-panel=\"production (run 1)\""), "production's matrix is drawn beside the candidate's")
            }
            try await client.execute(uri: "/runs/2/charts/metric-accuracy.svg", method: .get) { response in
                #expect(response.status == .ok && response.headers[.contentType] == "image/svg+xml; charset=utf-8")
                let svg = String(buffer: response.body)
                #expect(svg.hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\"") && svg.contains("data-marker=\"cross\""), "\(svg.prefix(200))")
            }
            try await client.execute(uri: "/runs/2/charts/metric-accuracy.png", method: .get) { response in
                // rsvg-convert (librsvg2-bin) draws it; .ci/apt-packages.txt installs it.
                #expect(response.status == .ok && response.headers[.contentType] == "image/png", "\(String(buffer: response.body))")
                #expect(Array(response.body.readableBytesView.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
            }
            try await client.execute(uri: "/runs/2/charts/nothing.svg", method: .get) { response in
                #expect(response.status == .notFound)
            }
            try await client.execute(uri: "/models/m", method: .get) { response in
                let page = String(buffer: response.body)
                #expect(page.contains("<h2>Metrics of every candidate</h2>") && page.contains("data-y=\"0.71\" data-marker=\"cross\""), "\(page.prefix(400))")
                #expect(page.contains("<td><a href=\"/runs/2\">2</a></td><td>reject</td><td class=\"num\">0.71</td>"), "the values are in a table too")
            }
        }
    }
}
