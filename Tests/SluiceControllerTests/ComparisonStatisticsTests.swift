import Foundation
import SluiceCore
import SluiceTestSupport
import Testing

/// The Mann–Whitney U test canary comparisons rest on, against `scipy.stats.mannwhitneyu` on
/// random samples: different sizes, shifts both ways, many ties (values rounded), both
/// alternatives. U and p must agree to 1e-9.
@Suite struct ComparisonStatisticsTests {
    struct Case: Codable {
        var x: [Double]
        var y: [Double]
        var alternative: String
    }

    static func cases() -> [Case] {
        var rng = SeededGenerator(seed: 20261206)
        var cases: [Case] = []
        for i in 0..<60 {
            let (n1, n2) = (Int.random(in: 3...200, using: &rng), Int.random(in: 3...200, using: &rng))
            let shift = Double.random(in: -1...1, using: &rng)
            // Every third case rounds to one decimal: many ties, as latencies in histogram buckets have.
            let round: (Double) -> Double = i % 3 == 0 ? { ($0 * 10).rounded() / 10 } : { $0 }
            func sample(_ n: Int, _ mean: Double) -> [Double] {
                (0..<n).map { _ in round(-log(Double.random(in: 0.000001...1, using: &rng)) + mean) }
            }
            cases.append(Case(x: sample(n1, shift), y: sample(n2, 0), alternative: i % 2 == 0 ? "greater" : "less"))
        }
        return cases
    }

    @Test func agreesWithScipyToOneInABillion() throws {
        let cases = Self.cases()
        let dir = TemporaryDirectory()
        let input = dir.write("cases.json", String(decoding: try JSONEncoder().encode(cases), as: UTF8.self))
        let result = try ProcessRunner.run("sh", ["-c", "python3 \"$0\" < \"$1\"",
                                                  RepositoryLayout.root() + "/Tests/SluiceControllerTests/Fixtures/mann_whitney_reference.py", input])
        try #require(result.status == 0, "scipy must be installed (.ci/python-env): \(result.stderr)")
        let scipy = try JSONDecoder().decode([[String: Double]].self, from: Data(result.stdout.utf8))
        try #require(scipy.count == cases.count)
        var smallest = 1.0
        for (c, reference) in zip(cases, scipy) {
            let mine = try #require(MannWhitney.test(c.x, c.y, alternative: c.alternative == "greater" ? .greater : .less))
            let (u, p) = (try #require(reference["u"]), try #require(reference["p"]))
            #expect(abs(mine.u - u) <= 1e-9 * max(1, abs(u)), "U: sluice \(mine.u) scipy \(u) (n = \(c.x.count), \(c.y.count))")
            #expect(abs(mine.p - p) <= 1e-9, "p: sluice \(mine.p) scipy \(p) (n = \(c.x.count), \(c.y.count), \(c.alternative))")
            smallest = min(smallest, p)
        }
        #expect(smallest < 1e-6, "the cases include clear differences, not only p-values near 0.5")
    }
}
