import Foundation
import Testing
import SluiceTestSupport

/// Declared plots (`plots:`): read from the stage's files, stored with the run, drawn over the
/// production model's run by `sluice report --charts`; bad plot data is a located warning.
@Suite struct PlotTests {
    let sluice = RepositoryLayout.sluiceBinary

    static func spec(_ extra: String = "") -> String {
        """
        version: 1
        stages:
          evaluate:
            run: [sh, -c, "mkdir -p plots && cp data/*.csv plots/ && echo '{\\"accuracy\\": 0.9}' > metrics.json"]
            metrics: metrics.json
            plots:
              - { file: plots/confusion.csv, x: actual, y: predicted, template: confusion, title: Confusion }
              - { file: plots/roc.csv, x: fpr, y: tpr, title: ROC }
              - { file: plots/broken.csv, title: Broken }\(extra)
        gate: { policy: policy.yaml, model: plotted }
        """
    }

    /// The chart's data points as python's XML parser reads them: `series x y` per marker,
    /// `panel actual predicted count` per cell, `polyline series count` per curve.
    func points(_ svg: String) throws -> [String] {
        let r = try ProcessRunner.run("python3", ["-c", """
            import sys, xml.etree.ElementTree as ET
            for e in ET.parse(sys.argv[1]).iter():
                a = e.attrib
                if "data-count" in a: print(a["data-panel"], a["data-actual"], a["data-predicted"], a["data-count"])
                elif "data-x" in a: print(a["data-series"], a["data-x"], a["data-y"])
                elif e.tag.endswith("polyline"): print("polyline", a["data-series"], a["data-points"])
            """, svg])
        #expect(r.status == 0, "\(r.stderr)")
        return r.stdout.split(separator: "\n").map(String.init)
    }

    @Test func plotsAreDrawnOverProductionsAndBadDataIsALocatedWarning() throws {
        let repo = try TestRepository()
        try repo.commit("first model", files: [
            "sluice.yaml": Self.spec(), "policy.yaml": "rules:\n  - { metric: accuracy, direction: higher, min: 0.5 }\n",
            "data/confusion.csv": "actual,predicted\ncat,cat\ncat,dog\ndog,dog\n",
            "data/roc.csv": "fpr,tpr\n0,0\n0.2,0.7\n1,1\n",
            "data/broken.csv": "step,loss\n1,0.5\n2,lots\n",
        ])
        let state = TemporaryDirectory(prefix: "sluice-state")
        let first = try ProcessRunner.run(sluice, ["run", "--repo", repo.path, "--state", state.path])
        #expect(first.status == 0, "\(first.stdout)\(first.stderr)")
        let log = try ProcessRunner.run(sluice, ["logs", "1", "evaluate", "--state", state.path]).stdout
        #expect(log.contains("warning: plot 'Broken': plots/broken.csv:3: 'lots' in column 'loss' is not a number; the row is left out"), "\(log)")

        repo.write("data/confusion.csv", "actual,predicted\ncat,cat\ncat,cat\ndog,dog\ndog,cat\n")
        repo.write("data/roc.csv", "fpr,tpr\n0,0\n0.1,0.9\n0.5,0.95\n1,1\n")
        try repo.commit("second model")
        let second = try ProcessRunner.run(sluice, ["run", "--repo", repo.path, "--state", state.path])
        #expect(second.status == 0, "\(second.stdout)\(second.stderr)")

        let charts = TemporaryDirectory(prefix: "sluice-charts")
        let written = try ProcessRunner.run(sluice, ["report", "2", "--charts", charts.path, "--state", state.path])
        #expect(written.status == 0 && written.stderr.contains("wrote 4 charts"), "\(written.stdout)\(written.stderr)")
        let confusion = try points(charts.path + "/evaluate-Confusion.svg")
        #expect(confusion == ["run 2 cat cat 2", "run 2 cat dog 0", "run 2 dog cat 1", "run 2 dog dog 1",
                              "production (run 1) cat cat 1", "production (run 1) cat dog 1", "production (run 1) dog cat 0", "production (run 1) dog dog 1"],
                "\(confusion)")
        let roc = try points(charts.path + "/evaluate-ROC.svg")
        #expect(roc.contains("polyline run 2 4") && roc.contains("polyline production (run 1) 3"), "\(roc)")
        #expect(roc.contains("run 2 0.1 0.9") && roc.contains("production (run 1) 0.2 0.7"), "\(roc)")
        let broken = try points(charts.path + "/evaluate-Broken.svg")
        #expect(broken.contains("polyline run 2 1") || broken.contains("run 2 1.0 0.5"), "the drawable row is drawn: \(broken)")
        let accuracy = try points(charts.path + "/metric-accuracy.svg")
        #expect(accuracy.filter { $0.hasPrefix("candidates ") } == ["candidates 0.0 0.9", "candidates 1.0 0.9"], "\(accuracy)")
    }

    /// A DVC project's `dvc.yaml` plots are drawn with no Sluice configuration, in DVC's forms.
    @Test func aDVCProjectsPlotsAreDrawnWithoutConfiguration() throws {
        let repo = try TestRepository()
        try repo.commit("a DVC project", files: [
            "sluice.yaml": "version: 1\nstages:\n  evaluate:\n    run: [sh, -c, \"mkdir -p eval && cp data/*.csv eval/\"]\n",
            "dvc.yaml": """
                stages:
                  evaluate: { cmd: python evaluate.py }
                plots:
                  - eval/loss.csv:
                      x: step
                      y: loss
                      template: smooth
                  - confusion:
                      template: confusion_normalized
                      x: actual
                      y:
                        eval/confusion.csv: predicted
                  - eval/other.csv:
                      template: sparkles
                """,
            "data/loss.csv": "step,loss\n1,0.9\n2,0.5\n3,0.4\n", "data/confusion.csv": "actual,predicted\na,a\nb,a\n", "data/other.csv": "a,b\n1,2\n",
        ])
        let state = TemporaryDirectory(prefix: "sluice-state")
        let r = try ProcessRunner.run(sluice, ["run", "--repo", repo.path, "--state", state.path])
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("note: dvc.yaml:14:17: warning: plot 'eval/other.csv' of dvc.yaml uses template 'sparkles'"), "sluice run says it too: \(r.stdout)")
        let plan = try ProcessRunner.run(sluice, ["plan", "--repo", repo.path])
        #expect(plan.stderr.contains("dvc.yaml:14:17: warning: plot 'eval/other.csv' of dvc.yaml uses template 'sparkles': Sluice draws it as a line"),
                "\(plan.stdout)\(plan.stderr)")
        let charts = TemporaryDirectory(prefix: "sluice-charts")
        let written = try ProcessRunner.run(sluice, ["report", "1", "--charts", charts.path, "--state", state.path])
        #expect(written.stderr.contains("wrote 3 charts to \(charts.path): dvc_yaml-eval_loss_csv.svg, dvc_yaml-confusion.svg, dvc_yaml-eval_other_csv.svg"),
                "\(written.stdout)\(written.stderr)")
        #expect(try points(charts.path + "/dvc_yaml-confusion.svg") == ["run 1 a a 1", "run 1 a b 0", "run 1 b a 1", "run 1 b b 0"])
        #expect(try points(charts.path + "/dvc_yaml-eval_loss_csv.svg").contains("polyline run 1 3"))
    }

    /// `sluice validate-data --charts`: each column's reference and current distributions, as shares per bin.
    @Test func validateDataDrawsTheDistributionsItCompared() throws {
        let dir = TemporaryDirectory(prefix: "sluice-drift")
        let reference = dir.write("reference.csv", "x,kind\n" + (0..<400).map { "\($0 % 100),\($0 % 2 == 0 ? "a" : "b")" }.joined(separator: "\n") + "\n")
        let current = dir.write("current.csv", "x,kind\n" + (0..<400).map { "\($0 % 100 / 3),\($0 % 2 == 0 ? "a" : "b")" }.joined(separator: "\n") + "\n")
        let schema = dir.write("schema.yaml", "columns:\n  x: { type: integer }\n  kind: { type: string }\n")
        let r = try ProcessRunner.run(sluice, ["validate-data", current, "--schema", schema, "--reference", reference, "--charts", dir.path + "/charts"])
        #expect(r.status == 1 && r.stderr.contains("wrote 2 charts to"), "x drifted: \(r.stdout)\(r.stderr)")
        let svg = try String(contentsOfFile: dir.path + "/charts/drift-data-x.svg", encoding: .utf8)
        #expect(svg.contains("<title>x: PSI ") && svg.contains(", fail (warn above"), "\(svg.prefix(400))")
        func shares(_ series: String) -> Double {
            svg.components(separatedBy: "data-series=\"\(series)\"").dropFirst().compactMap { part in
                part.range(of: "data-value=\"").flatMap { Double(part[$0.upperBound...].prefix { $0 != "\"" }) }
            }.reduce(0, +)
        }
        #expect(abs(shares("reference (400 rows)") - 100) < 0.6 && abs(shares("current (400 rows)") - 100) < 0.6, "shares per bin add up to 100 %")
    }

    @Test func aPlotWithAnUnknownTemplateIsRefusedWithItsPlace() throws {
        let repo = try TestRepository()
        try repo.commit("plots", files: [
            "sluice.yaml": Self.spec("\n      - { file: plots/x.csv, template: pie }"),
            "policy.yaml": "rules:\n  - { metric: accuracy, direction: higher, min: 0.5 }\n",
        ])
        let r = try ProcessRunner.run(sluice, ["validate", "--repo", repo.path])
        let said = r.stdout + r.stderr
        #expect(r.status == 1 && said.contains("sluice.yaml:10:40: error: plot 'plots/x.csv' of stage 'evaluate' has template 'pie'; use one of: linear, scatter, confusion, bar"),
                "\(said)")
    }
}
