import Testing
import SluiceCore
import SluiceTestSupport
@testable import SluiceController

/// Which output is the model (`gate.artifact` and its default), and its located errors.
@Suite struct ModelOutputTests {
    func check(_ text: String) -> SpecLoader.Result {
        SpecLoader.load(bytes: Array(text.utf8), file: "sluice.yaml", paths: nil)
    }

    func lines(_ r: SpecLoader.Result) -> [String] {
        DiagnosticRenderer.sorted(r.diagnostics).map(DiagnosticRenderer.line)
    }

    static func spec(stages: String, gate: String) -> String {
        "version: 1\ndatasets:\n  d: { path: data.csv }\nstages:\n\(stages)gate:\n  policy: p.yaml\n\(gate)"
    }

    @Test func theOnlyOutputIsTheModel() {
        let r = check(Self.spec(stages: "  train: { run: x, outputs: [model/] }\n  eval: { run: y, metrics: m.json }\n", gate: "  registry: mlflow\n"))
        #expect(lines(r).isEmpty)
        #expect(r.spec?.modelOutput == ModelOutput(stage: "train", declared: "model/"))
        #expect(r.spec?.modelOutput?.path == "model")
    }

    @Test func theTrainingStageDecidesAmongSeveral() {
        let stages = "  features: { run: x, outputs: [features.parquet] }\n  train: { run: y, outputs: [model.pkl], when: { datasets: [d] } }\n"
        let r = check(Self.spec(stages: stages, gate: "  registry: mlflow\n"))
        #expect(lines(r).isEmpty)
        #expect(r.spec?.modelOutput?.stage == "train")
        #expect(r.spec?.modelOutput?.declared == "model.pkl")
    }

    @Test func gateArtifactNamesOneOfSeveral() {
        let stages = "  train: { run: y, outputs: [model/, plots/], when: { datasets: [d] } }\n"
        let r = check(Self.spec(stages: stages, gate: "  registry: mlflow\n  artifact: ./model\n"))
        #expect(lines(r).isEmpty)
        #expect(r.spec?.modelOutput?.declared == "model/")
    }

    @Test func anAmbiguousModelIsAnErrorWithTheMLflowRegistry() {
        let stages = "  train: { run: y, outputs: [model/, plots/], when: { datasets: [d] } }\n"
        #expect(lines(check(Self.spec(stages: stages, gate: "  registry: mlflow\n"))) == [
            "sluice.yaml:7:3: error: the MLflow registry stores the model's files, but which output is the model is not clear; "
                + "set 'gate.artifact' to one of: model/ (stage train), plots/ (stage train)",
        ])
        // The embedded registry keeps every output in Sluice's store: nothing to choose.
        #expect(lines(check(Self.spec(stages: stages, gate: ""))).isEmpty)
    }

    @Test func noOutputsAtAllWithTheMLflowRegistry() {
        let l = lines(check(Self.spec(stages: "  train: { run: y }\n", gate: "  registry: mlflow\n")))
        #expect(l == ["sluice.yaml:7:3: error: the MLflow registry stores the model's files, but no stage declares 'outputs'; "
                      + "declare the model under the training stage's 'outputs', e.g. 'outputs: [model/]'"])
    }

    @Test func anUndeclaredArtifactIsLocatedWithASuggestion() {
        let r = check(Self.spec(stages: "  train: { run: y, outputs: [models/] }\n", gate: "  artifact: model/\n"))
        #expect(lines(r) == ["sluice.yaml:8:13: error: 'gate.artifact' names 'model/', which no stage declares in 'outputs'; did you mean 'models/'?"])
        #expect(lines(check(Self.spec(stages: "  train: { run: y, outputs: [a/] }\n", gate: "  artifact: ../model\n"))).first?.contains("8:13") == true)
    }
}
