import Foundation
import Testing
import SluiceCore
import SluiceTestSupport
@testable import SluiceController

/// The validate-data action on real files, and its drift numbers against scipy.
@Suite struct DataValidationTests {
    static let schema = """
    rows: { min: 10 }
    columns:
      id: { type: integer, unique: true }
      x: { type: number, min: -100, max: 100 }
      y: { type: number }
      kind: { type: string }
    drift:
      bins: 10
    """

    /// Deterministic pseudo-random data (an LCG), shifted by `shift` for the current file.
    static func csv(rows: Int, seed: UInt64, shift: Double, kinds: [String]) -> String {
        var state = seed
        func next() -> Double {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Double(state >> 11) / Double(1 << 53)
        }
        var text = "id,x,y,kind\n"
        for i in 0..<rows {
            let x = (next() + next() + next() - 1.5) * 20 + shift
            let y = (next() * 1000).rounded() / 10  // many ties
            let k = kinds[Int(next() * Double(kinds.count)) % kinds.count]
            text += "\(i),\(x),\(y),\(k)\n"
        }
        return text
    }

    func run(_ dir: TemporaryDirectory, reference: String?, current: String, schema: String = schema) throws -> ValidationReport {
        let schemaPath = dir.write("schema.yaml", schema)
        let data = dir.write("current.csv", current)
        let ref = reference.map { dir.write("reference.csv", $0) }
        return try DataSetValidation.run(.init(dataPath: data, dataName: "data/current.csv", schemaPath: schemaPath,
                                               schemaName: "schemas/s.yaml", referencePath: ref, referenceName: ref.map { _ in "production:data/current.csv" }))
    }

    @Test(arguments: [(800, 1200, 0.0), (3000, 2500, 1.5), (50, 70, 8.0)])
    func driftNumbersAgreeWithScipy(sizes: (Int, Int, Double)) throws {
        let dir = TemporaryDirectory()
        let ref = Self.csv(rows: sizes.0, seed: 1, shift: 0, kinds: ["a", "b", "c"])
        let cur = Self.csv(rows: sizes.1, seed: 2, shift: sizes.2, kinds: ["a", "b", "c", "d"])
        let report = try run(dir, reference: ref, current: cur)
        for column in ["x", "y"] {
            let result = try ProcessRunner.run("python3", [RepositoryLayout.root() + "/Tests/SluiceControllerTests/Fixtures/drift_reference.py",
                                                           dir.path + "/reference.csv", dir.path + "/current.csv", column, "kind", "10"])
            #expect(result.status == 0, "\(result.stderr)")
            let scipy = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Double])
            func drift(_ c: String, _ test: String) throws -> ValidationReport.Drift {
                try #require(report.drift.first { $0.column == c && $0.test == test })
            }
            func close(_ a: Double?, _ b: Double?, _ what: String) {
                guard let a, let b else { Issue.record("\(what) missing"); return }
                #expect(abs(a - b) <= 1e-9 * max(1, abs(b)), "\(what): sluice \(a) scipy \(b)")
            }
            close(try drift(column, "ks").statistic, scipy["ks"], "\(column) KS statistic")
            close(try drift(column, "ks").pValue, scipy["ks_p"], "\(column) KS p-value")
            close(try drift(column, "psi").statistic, scipy["psi_numeric"], "\(column) PSI")
            close(try drift("kind", "psi").statistic, scipy["psi_categorical"], "kind PSI")
            close(try drift("kind", "chi2").statistic, scipy["chi2"], "chi-squared statistic")
            close(try drift("kind", "chi2").pValue, scipy["chi2_p"], "chi-squared p-value")
        }
    }

    @Test func malformedRowsAndMissingColumnsAreReportedNotFatal() throws {
        let dir = TemporaryDirectory()
        var data = "id,x,kind\n"
        for i in 0..<12 { data += "\(i),\(i),a\n" }
        data += "12,\"unterminated,a\n"
        let report = try run(dir, reference: nil, current: data)
        #expect(report.verdict == .fail)
        let missing = try #require(report.checks.first { $0.column == "y" && $0.check == "present" })
        #expect(missing.message.contains("column 'y' declared at schemas/s.yaml:5:3 is not in data/current.csv"))
        let syntax = try #require(report.checks.first { $0.check == "syntax" })
        #expect(syntax.verdict == .fail)
        #expect(syntax.examples.first?.line == 14)
        #expect(report.notes.contains { $0.contains("drift not measured") })
    }

    @Test func jsonLinesAreCheckedLikeCSV() throws {
        let dir = TemporaryDirectory()
        var lines = ""
        for i in 0..<11 { lines += "{\"id\": \(i), \"x\": \(Double(i) / 2), \"y\": 1, \"kind\": \"a\"}\n" }
        lines += "{\"id\": 11, \"x\": \"high\", \"y\": null, \"kind\": \"a\"}\nnot json\n"
        let schemaPath = dir.write("schema.yaml", Self.schema)
        let data = dir.write("d.jsonl", lines)
        let report = try DataSetValidation.run(.init(dataPath: data, dataName: "d.jsonl", schemaPath: schemaPath, schemaName: "s.yaml"))
        let failed = Dictionary(uniqueKeysWithValues: report.failedChecks.map { (($0.column ?? "") + "." + $0.check, $0.examples.map(\.line)) })
        #expect(failed == ["x.type": [12], "y.nullable": [12], ".syntax": [13]])
        #expect(report.rows == 12)
    }

    @Test func badSchemaIsALocatedError() throws {
        let dir = TemporaryDirectory()
        #expect {
            _ = try run(dir, reference: nil, current: "a\n1\n", schema: "columns:\n  a: { type: numbr }\n")
        } throws: { error in
            "\(error)".contains("schemas/s.yaml:2:14: error: unknown type 'numbr'") && "\(error)".contains("did you mean 'number'")
        }
        // A limit that would reserve memory the machine does not have is refused where it is written.
        #expect {
            _ = try run(dir, reference: nil, current: "a\n1\n", schema: "columns:\n  a: { type: number }\ndrift:\n  exact-limit: 1000000000000\n")
        } throws: { error in
            "\(error)".contains("schemas/s.yaml:4:16: error: 'drift.exact-limit' must be at most 10000000")
        }
    }
}
