import Testing
@testable import SluiceCore

@Suite struct RenderTests {
    let facts = DeployFacts(model: "iris", version: "3", digest: "sha256:abc", uri: "sluice:iris/3",
                            commit: "0123456789abcdef0123456789abcdef01234567", datasets: ["iris": "v9"],
                            environment: "production", namespace: "ml", run: 12)

    @Test func rendersFactsAsPlainTextDeterministically() throws {
        let text = "image: repo/iris:{{image.tag}}\nversion: \"{{model.version}}\"\nnote: a & b <{{model.name}}>\ndata: {{datasets.iris}}\n"
        let once = try ManifestTemplate.render(text, file: "m.yaml", facts: facts)
        #expect(once == "image: repo/iris:0123456789ab\nversion: \"3\"\nnote: a & b <iris>\ndata: v9\n")
        #expect(try ManifestTemplate.render(text, file: "m.yaml", facts: facts) == once)
    }

    @Test func documentsAreCutOnlyOutsideSections() throws {
        #expect(ManifestTemplate.documents("a: 1\n---\nb: 2\n") == ["a: 1\n---\n", "b: 2\n"])
        #expect(ManifestTemplate.documents("{{#model}}\na: 1\n---\nb: {{version}}\n{{/model}}\n").count == 1)
        let many = (0..<50).map { "n: {{model.version}}-\($0)" }.joined(separator: "\n---\n") + "\n"
        let rendered = try ManifestTemplate.render(many, file: "m.yaml", facts: facts)
        #expect(rendered == (0..<50).map { "n: 3-\($0)" }.joined(separator: "\n---\n") + "\n")
    }

    @Test func unknownNamesAreLocatedErrorsNotEmptyStrings() {
        let text = "metadata:\n  name: {{model.nmae}}\n  ns: {{namespace}}\n{{#datasets}}\n  x: {{iris}}\n{{/datasets}}\n{{#model}}{{version}}{{/model}}\n"
        #expect {
            _ = try ManifestTemplate.render(text, file: "manifests/d.yaml", facts: facts)
        } throws: { error in
            let lines = (error as! DiagnosticsError).diagnostics.map(DiagnosticRenderer.line)
            return lines == ["manifests/d.yaml:2:9: error: unknown value 'model.nmae' in the template; did you mean 'model.name'?"]
        }
    }

    @Test func unbalancedSectionsAndUnsupportedTagsAreReported() {
        let problems = ManifestTemplate.check("{{#model}}\n{{/image}}\n{{> partial}}\n", file: "t.yaml", names: facts.names)
        let lines = problems.map(DiagnosticRenderer.line)
        #expect(lines.contains { $0.hasPrefix("t.yaml:2:1: error: '{{/image}}' closes a section that is not open") })
        #expect(lines.contains { $0.hasPrefix("t.yaml:3:1: error: Mustache tag '{{> partial}}' is not supported") })
        #expect(lines.contains { $0.hasPrefix("t.yaml:1:1: error: section '{{#model}}' is never closed") })
    }

    @Test func diffsNameObjectsAndChangedLines() {
        let lines = ManifestDiff.lines(
            current: [("ml/deployment-iris.yaml", "a: 1\nimage: v2\n"), ("ml/configmap-old.yaml", "x: 1\n")],
            next: [("ml/deployment-iris.yaml", "a: 1\nimage: v3\n"), ("_cluster/namespace-ml.yaml", "kind: Namespace\n")])
        #expect(lines == ["+ namespace ml (new)", "- configmap ml/old (removed)", "~ deployment ml/iris", "    - image: v2", "    + image: v3"],
                "without a parser: changed lines")
    }

    static func tree(_ entries: [(String, FieldDiff.Tree)]) -> FieldDiff.Tree { .map(entries.map { FieldDiff.Tree.Field($0.0, $0.1) }) }

    @Test func diffsByFieldPathAddressListItemsByName() {
        func deployment(image: String, replicas: String, containers extra: [FieldDiff.Tree] = []) -> FieldDiff.Tree {
            let model = Self.tree([("name", .scalar("model")), ("image", .scalar(image))])
            return Self.tree([("spec", Self.tree([("replicas", .scalar(replicas)),
                                                  ("template", Self.tree([("spec", Self.tree([("containers", .list(extra + [model]))]))]))]))])
        }
        let sidecar = Self.tree([("name", .scalar("proxy")), ("image", .scalar("envoy:1"))])
        let lines = FieldDiff.lines(before: deployment(image: "iris:a", replicas: "1"),
                                    after: deployment(image: "iris:b", replicas: "2", containers: [sidecar]))
        #expect(lines == [
            "~ spec.replicas: 1 → 2",
            "+ spec.template.spec.containers[name=proxy].name: proxy",
            "+ spec.template.spec.containers[name=proxy].image: envoy:1",
            "~ spec.template.spec.containers[name=model].image: iris:a → iris:b",
        ])
        // Items without distinct names are addressed by index.
        #expect(FieldDiff.lines(before: .list([.scalar("a"), .scalar("b")]), after: .list([.scalar("a"), .scalar("c")])) == ["~ [1]: b → c"])
        // The diff shows them under their object.
        let parsed = ManifestDiff.lines(current: [("ml/deployment-iris.yaml", "a")], next: [("ml/deployment-iris.yaml", "b")],
                                        parse: { $0 == "a" ? deployment(image: "iris:a", replicas: "1") : deployment(image: "iris:b", replicas: "1") })
        #expect(parsed == ["~ deployment ml/iris", "    ~ spec.template.spec.containers[name=model].image: iris:a → iris:b"])
    }

    @Test func aManifestAsDeepAsTheYAMLAdapterAllowsIsFlattened() {
        var tree = FieldDiff.Tree.scalar("leaf")
        for _ in 0..<512 { tree = .list([tree]) }  // YAMLParser.depthLimit
        #expect(FieldDiff.flatten(tree).count == 1)
    }
}
