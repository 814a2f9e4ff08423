import Foundation
import Testing
import SluiceCore
import SluiceTestSupport
import SluiceYAML
@testable import SluiceController

/// The shipped JSON Schema and the Swift validator must agree.
@Suite struct SchemaTests {
    static let schemaPath = RepositoryLayout.root() + "/Sources/SluiceCore/Spec/sluice.schema.json"

    static var examples: [String] {
        let root = RepositoryLayout.root() + "/examples"
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
        return names.sorted().map { "\(root)/\($0)/sluice.yaml" }.filter { FileManager.default.fileExists(atPath: $0) }
    }

    func schema() throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: Self.schemaPath))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    func keys(_ object: Any?, _ path: [String]) -> [String] {
        var current = object
        for p in path { current = (current as? [String: Any])?[p] }
        return ((current as? [String: Any]) ?? [:]).keys.sorted()
    }

    @Test func schemaListsTheSameKeysAsTheValidator() throws {
        let s = try schema()
        #expect(keys(s, ["properties"]) == SpecKeys.topLevel.sorted())
        #expect(keys(s, ["$defs", "stage", "properties"]) == SpecKeys.stage.sorted())
        #expect(keys(s, ["$defs", "dataset", "properties"]) == SpecKeys.dataset.sorted())
        #expect(keys(s, ["$defs", "stage", "properties", "when", "properties"]) == SpecKeys.when.sorted())
        #expect(keys(s, ["$defs", "stage", "properties", "with", "properties"]) == SpecKeys.validateDataWith.sorted())
        #expect(keys(s, ["properties", "gate", "properties"]) == SpecKeys.gate.sorted())
        #expect(keys(s, ["properties", "deploy", "properties"]) == SpecKeys.deploy.sorted())
        #expect(keys(s, ["properties", "runner", "properties"]) == SpecKeys.runner.sorted())
        #expect(keys(s, ["$defs", "environment", "properties"]) == SpecKeys.environment.sorted())
        #expect(keys(s, ["$defs", "verifyCheck", "properties"]) == SpecKeys.verify.sorted())
        #expect(keys(s, ["$defs", "analysis", "properties"]) == SpecKeys.analysis.sorted())
        #expect(keys(s, ["$defs", "stage", "properties", "resources", "properties"]) == SpecKeys.resources.sorted())
        #expect(keys(s, ["$defs", "resourceList", "properties"]) == SpecKeys.resourceNames.sorted())
    }

    @Test func thereAreExamples() {
        #expect(Self.examples.count >= 1)
    }

    @Test(arguments: examples)
    func exampleValidatesAgainstSchemaAndValidator(path: String) throws {
        let folder = (path as NSString).deletingLastPathComponent
        let result = try SpecLoader.load(path: path, repositoryRoot: folder)
        #expect(result.diagnostics.isEmpty, "\(DiagnosticRenderer.text(result.diagnostics))")

        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        let document = try #require(try YAMLParser.parseDocument(bytes, file: path))
        let json = NodeJSON.render(document)
        let script = """
        import json, sys
        import jsonschema
        schema = json.load(open(sys.argv[1]))
        jsonschema.Draft202012Validator(schema).validate(json.loads(sys.stdin.read()))
        print("ok")
        """
        let run = try ProcessRunner.run("python3", ["-c", script, Self.schemaPath], input: json)
        #expect(run.status == 0, "jsonschema rejected \(path): \(run.stderr)")
    }

    @Test func schemaRejectsWhatTheValidatorRejects() throws {
        let script = """
        import json, sys
        import jsonschema
        schema = json.load(open(sys.argv[1]))
        doc = {"version": 1, "stages": {"test": {"run": "pytest", "need": ["lint"]}}}
        errors = list(jsonschema.Draft202012Validator(schema).iter_errors(doc))
        print(len(errors))
        """
        let run = try ProcessRunner.run("python3", ["-c", script, Self.schemaPath])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.trimmingCharacters(in: .whitespacesAndNewlines) != "0")
    }
}
