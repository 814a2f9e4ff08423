import Testing
import SluiceCore
import SluiceYAML
@testable import SluiceRegistry

/// What a repository's metrics and params become in MLflow: legal keys, bounded values.
@Suite struct MLflowKeysTests {
    @Test func keysKeepWhatMLflowAcceptsAndReplaceTheRest() {
        #expect(MLflowKeys.legal("accuracy") == "accuracy")
        #expect(MLflowKeys.legal("slices/class=setosa/f1") == "slices/class_setosa/f1")
        #expect(MLflowKeys.legal("top-5 acc.:val") == "top-5 acc.:val")
        #expect(MLflowKeys.legal("/abs//../x/./y/") == "abs/__/x/_/y")
        #expect(MLflowKeys.legal("") == "_")
        #expect(MLflowKeys.legal("é✓") == "__")
        #expect(MLflowKeys.legal(String(repeating: "k", count: 400)).count == 250)
    }

    @Test func metricsIncludeSlicesAndLeaveOutWhatJSONCannotCarry() {
        let set = MetricSet(values: ["acc": 0.9, "loss": .infinity, "a=b": 1, "a_b": 2], slices: ["region=eu": ["acc": 0.8]])
        let metrics = MLflowKeys.metrics(set)
        #expect(metrics.map(\.key) == ["a_b", "a_b_2", "acc", "slices/region_eu/acc"])
        #expect(metrics.map(\.value) == [1, 2, 0.9, 0.8])
    }

    @Test func paramValuesAreCut() {
        let params = MLflowKeys.params(["lr": "0.1", "blob": String(repeating: "x", count: 10_000)])
        #expect(params.map(\.key) == ["blob", "lr"])
        #expect(params[0].value.count == 6000)
    }

    @Test func paramsFlattenWithBounds() throws {
        let node = try #require(try YAMLParser.parseDocument(Array("train: { C: 1.0, layers: [64, 32], opt: { name: adam } }\nseed: ~\n".utf8), file: "params.yaml"))
        #expect(ParamValues.flatten(node, prefix: "").values == ["train.C": "1.0", "train.layers.0": "64", "train.layers.1": "32",
                                                                 "train.opt.name": "adam", "seed": "null"])
        let small = ParamValues.flatten(node, prefix: "", limit: 2)
        #expect(small.values.count == 2 && small.truncated)
        // Deeper than the bound: cut, never recursed into.
        var deep = "v"
        for _ in 0..<200 { deep = "[" + deep + "]" }
        let nested = try #require(try YAMLParser.parseDocument(Array(deep.utf8), file: "p.yaml"))
        let flat = ParamValues.flatten(nested, prefix: "p", maxDepth: 32)
        #expect(flat.truncated && flat.values.isEmpty)
    }

    @Test func onlyProxiedArtifactURIsAreWritable() throws {
        #expect(try MLflowClient.proxiedPath(of: "mlflow-artifacts:/1/abc/artifacts") == "1/abc/artifacts")
        #expect(try MLflowClient.proxiedPath(of: "mlflow-artifacts://mlflow:5000/1/abc/artifacts") == "1/abc/artifacts")
        #expect(throws: RegistryError.self) { try MLflowClient.proxiedPath(of: "s3://bucket/1/abc/artifacts") }
        #expect(throws: RegistryError.self) { try MLflowClient.proxiedPath(of: "mlflow-artifacts:/../etc") }
        #expect(MLflowClient.withoutUserInfo("https://user:secret@mlflow.example.com/x") == "https://mlflow.example.com/x")
        #expect(MLflowClient.withoutUserInfo("http://127.0.0.1:5000") == "http://127.0.0.1:5000")
    }
}
