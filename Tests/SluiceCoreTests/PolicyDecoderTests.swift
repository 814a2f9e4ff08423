import Testing
@testable import SluiceCore

/// Policy files get located errors; built from nodes here (the YAML adapter's tests cover parsing).
@Suite struct PolicyDecoderTests {
    static func node(_ text: String, _ line: Int, _ column: Int, plain: Bool = true) -> Node {
        Node(.scalar(Scalar(text, isPlain: plain)), at: .init(file: "p.yaml", line: line, column: column))
    }

    static func map(_ pairs: [(String, Node)], _ line: Int, _ column: Int) -> Node {
        Node(.mapping(pairs.enumerated().map { i, p in .init(key: node(p.0, line + i, column), value: p.1) }),
             at: .init(file: "p.yaml", line: line, column: column))
    }

    @Test func decodesRulesWithAmounts() {
        let rule = Self.map([("metric", Self.node("rmse", 2, 13)), ("direction", Self.node("lower", 3, 16)),
                             ("max", Self.node("3.5", 4, 10)),
                             ("vs-production", Self.map([("improvement", Self.node("2%", 6, 20, plain: true))], 6, 7))], 2, 5)
        let root = Self.map([("rules", Node(.sequence([rule]), at: .init(file: "p.yaml", line: 2, column: 3)))], 1, 1)
        let (policy, diagnostics) = PolicyDecoder.decode(root, file: "p.yaml")
        #expect(diagnostics.isEmpty)
        #expect(policy?.rules.first?.vsProduction == .init(kind: .improvement, amounts: [.relative(0.02)]))
        #expect(policy?.rules.first?.max == 3.5)
        #expect(Gate.describe(policy!.rules[0]) == "lower is better; ≤ 3.5; at least 2% better than production")
    }

    @Test func everyProblemIsReportedWithItsLocation() {
        let bad = Self.map([("metric", Self.node("acc", 2, 13)), ("direction", Self.node("hgher", 3, 16)),
                            ("mni", Self.node("0.8", 4, 5))], 2, 5)
        let worse = Self.map([("metric", Self.node("f1", 5, 13)), ("direction", Self.node("higher", 6, 16)),
                              ("vs-production", Self.map([("tolerance", Self.node("lots", 7, 20))], 7, 7))], 5, 5)
        let root = Self.map([("rules", Node(.sequence([bad, worse]), at: .init(file: "p.yaml", line: 2, column: 3)))], 1, 1)
        let lines = PolicyDecoder.decode(root, file: "p.yaml").diagnostics.map(DiagnosticRenderer.line)
        #expect(lines.contains { $0.hasPrefix("p.yaml:4:5: error: unknown key 'mni' in a rule") && $0.contains("did you mean 'min'") })
        #expect(lines.contains { $0.hasPrefix("p.yaml:3:16: error: unknown direction 'hgher'") && $0.contains("did you mean 'higher'") })
        #expect(lines.contains { $0.hasPrefix("p.yaml:7:20: error: 'tolerance' of 'f1' must be a non-negative number or a percentage") })
    }

    @Test func metricsFilesFlattenAndRejectStrings() {
        let root = Self.map([("accuracy", Self.node("0.95", 1, 13)),
                             ("loss", Self.map([("train", Self.node("0.1", 2, 10))], 2, 3)),
                             ("f1", Self.node("high", 4, 7, plain: false)),
                             ("slices", Self.map([("class=a", Self.map([("f1", Self.node("1.0", 6, 9))], 6, 5))], 5, 3))], 1, 1)
        let (metrics, diagnostics) = MetricSet.read(root, file: "m.json")
        #expect(metrics == nil)
        #expect(diagnostics.map(DiagnosticRenderer.line) == ["p.yaml:4:7: error: metric 'f1' must be a number, found 'high'"])
        let fine = Self.map([("accuracy", Self.node("0.95", 1, 13)), ("loss", Self.map([("train", Self.node("0.1", 2, 10))], 2, 3)),
                             ("slices", Self.map([("class=a", Self.map([("f1", Self.node("1.0", 6, 9))], 6, 5))], 5, 3))], 1, 1)
        let ok = MetricSet.read(fine, file: "m.json").metrics
        #expect(ok?.values == ["accuracy": 0.95, "loss.train": 0.1])
        #expect(ok?.slices == ["class=a": ["f1": 1.0]])
    }
}
