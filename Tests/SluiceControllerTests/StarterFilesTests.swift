import Testing
import SluiceController
import SluiceCore
import SluiceYAML

/// What `sluice init` writes, as values: the schema inferred from column profiles and the
/// starter sluice.yaml and policy, each read back by the decoders `sluice validate` uses.
@Suite struct StarterFilesTests {
    func profile(_ name: String, _ values: [String?]) -> ColumnProfile {
        var p = ColumnProfile(name: name)
        for v in values { p.add(v) }
        return p
    }

    @Test func typesAreTheNarrowestEveryValueHas() {
        #expect(profile("a", ["1", "-2", "30"]).type == .integer)
        #expect(profile("a", ["1", "2.5"]).type == .number)
        #expect(profile("a", ["true", "False", nil]).type == .boolean)
        // 0 and 1 read as booleans by the validator, but a column of them is a number column.
        #expect(profile("a", ["0", "1", "1"]).type == .integer)
        #expect(profile("a", ["1", "x"]).type == .string)
        #expect(profile("a", [nil, nil]).type == .string)
        #expect(profile("a", ["1e400"]).type == .string, "an overflowing number is not a finite number")
    }

    @Test func categoriesAndUniquenessFollowTheValues() {
        #expect(profile("kind", ["b", "a", "b", "a"]).categories == ["a", "b"])
        #expect(profile("kind", ["a", "b", "c"]).categories == nil, "each value once: free text, not a category")
        #expect(profile("id", ["1", "2", "3"]).unique)
        #expect(!profile("id", ["1", "2", "2"]).unique)
        #expect(!profile("id", ["1", nil, "3"]).unique, "a missing value is not an identifier")
        #expect(!profile("x", ["1.5", "2.5"]).unique, "measured numbers are distinct by chance")
        // A few decimals and a marker are still categories; many measurements then text are free text.
        #expect(profile("grade", ["1.5", "2.5", "1.5", "2.5", "n/a", "n/a"]).categories == ["1.5", "2.5", "n/a"])
        let measured = profile("x", (0..<30).map { "\($0).5" } + ["n/a", "n/a"])
        #expect(measured.type == .string && measured.categories == nil && !measured.unique)
    }

    @Test func rangesAreWidenedAndRounded() {
        #expect(SchemaInference.widened(4.3, 7.9, integer: false) == ("3.9", "8.3"))
        #expect(SchemaInference.widened(0.1, 2.5, integer: false) == ("0", "2.8"), "no negative bound for a column with none")
        #expect(SchemaInference.widened(-18.5, 38.5, integer: false) == ("-25", "45"))
        #expect(SchemaInference.widened(1000, 1039, integer: true) == ("996", "1043"))
        #expect(SchemaInference.widened(5, 5, integer: true) == ("4", "6"))
        #expect(SchemaInference.widened(0.001, 0.002, integer: false) == ("0.0009", "0.0021"))
    }

    @Test func theInferredSchemaReadsBackAsTheValidatorsSchema() throws {
        let columns = [profile("yes", ["1", "2"]), profile("a: b", ["x", "x", "y", "y"]), profile("price", ["10.5", nil, "99"])]
        let text = SchemaInference.yaml(columns: columns, rows: 4, file: "data/d.csv")
        let decoded = DataSchemaDecoder.decode(try #require(try YAMLParser.parseDocument(text, file: "s.yaml")), file: "s.yaml")
        #expect(decoded.diagnostics.isEmpty, "\(decoded.diagnostics)\n\(text)")
        let schema = try #require(decoded.schema)
        #expect(schema.columns.map(\.name) == ["yes", "a: b", "price"], "names YAML would misread are quoted")
        #expect(schema.columns[1].allowed == ["x", "y"])
        #expect(schema.columns[2].nullable)
        #expect(schema.minRows == 2)
    }

    @Test func metricNamesAreFoundInTheOrderTheCodeNamesThem() {
        let source = "return {\"rmse\": a, 'mae': b, \"r2\": c}  # not accuracy"
        #expect(RepositoryFacts.metrics(inSource: source).map(\.name) == ["rmse", "mae", "r2"])
        #expect(RepositoryFacts.metrics(inSource: source).map(\.higherIsBetter) == [false, false, true])
        #expect(RepositoryFacts.metrics(inSource: "{'f1_macro': x, 'f1': y}").map(\.name) == ["f1_macro"])
    }

    @Test func theStarterSpecDecodesWithNoErrors() throws {
        var facts = RepositoryFacts(model: "wine")
        facts.lintFolders = ["src"]
        facts.testFolder = "tests"
        facts.dataFiles = [.init(name: "wine", path: "data/wine.csv", dvcPointer: nil, schema: "schemas/wine.yaml"),
                           .init(name: "extra", path: "data/extra.csv", dvcPointer: "data/extra.csv.dvc", schema: "schemas/extra.yaml")]
        facts.trainScript = "src/train.py"
        facts.paramsFile = "params.yaml"
        facts.metrics = [.init(name: "accuracy", higherIsBetter: true)]
        facts.manifests = "k8s"
        let text = StarterSpec.sluiceYAML(facts)
        let decoded = SpecDecoder.decode(try YAMLParser.parseDocument(text, file: "sluice.yaml"), file: "sluice.yaml")
        #expect(decoded.diagnostics.filter { $0.severity == .error }.isEmpty, "\(decoded.diagnostics)\n\(text)")
        let spec = try #require(decoded.spec)
        #expect(spec.stages.map(\.name) == ["lint", "test", "validate-wine", "fetch-extra", "validate-extra", "train"])
        #expect(spec.stages.last?.metrics == StarterSpec.metricsFile, "without an evaluation, training writes the metrics")
        #expect(spec.gate?.model == "wine")
        let policy = try PolicyLoader.policy(bytes: Array(StarterSpec.policyYAML(facts).utf8), file: StarterSpec.policyPath)
        #expect(policy.rules.map(\.metric) == ["accuracy"])
    }
}

/// Who the promotion log names when `--actor` is not given.
@Suite struct OperatorNameTests {
    @Test func theAccountNamesTheOperatorWhenTheEnvironmentDoesNot() {
        #expect(OperatorName.current(environment: ["USER": "ada", "LOGNAME": "x"]) == "ada")
        #expect(OperatorName.current(environment: ["USER": "", "LOGNAME": "grace"]) == "grace")
        let account = OperatorName.current(environment: ["USER": ""])
        #expect(!account.isEmpty && account != "unknown", "an empty $USER falls back to the account: \(account)")
    }
}
