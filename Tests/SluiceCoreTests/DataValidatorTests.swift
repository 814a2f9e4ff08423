import Testing
import Foundation
@testable import SluiceCore

@Suite struct DataValidatorTests {
    static let location = SourceLocation(file: "schema.yaml", line: 3, column: 3)

    func schema() -> DataSchema {
        var id = DataSchema.Column(name: "id", type: .integer, location: Self.location)
        id.unique = true
        id.drift = false
        var x = DataSchema.Column(name: "x", type: .number, location: Self.location)
        x.min = 0
        x.max = 10
        var kind = DataSchema.Column(name: "kind", type: .string, location: Self.location)
        kind.allowed = ["a", "b"]
        var code = DataSchema.Column(name: "code", type: .string, location: Self.location)
        code.pattern = "[A-Z]{2}[0-9]"
        code.nullable = true
        var s = DataSchema(file: "schema.yaml", columns: [id, x, kind, code])
        s.minRows = 2
        return s
    }

    func validate(_ csv: String, schema: DataSchema? = nil) -> DataValidator {
        var v = DataValidator(schema: schema ?? self.schema(), dataFile: "data.csv")
        var parser = CSVParser()
        var header = true
        func onRecord(_ r: borrowing CSVParser.Record, _ line: Int) {
            if header { header = false; v.header(r.strings(), line: line) } else { v.record(r, line: line) }
        }
        func onError(_ e: CSVParser.SyntaxError) { v.malformed(line: e.line, message: e.message) }
        Array(csv.utf8).withUnsafeBytes { parser.feed($0, onRecord, onError: onError) }
        parser.finish(onRecord, onError: onError)
        v.finishProfiles()
        return v
    }

    func failed(_ v: DataValidator) -> [String: [Int]] {
        Dictionary(uniqueKeysWithValues: v.checks().filter { $0.verdict == .fail }.map { (($0.column ?? "") + "." + $0.check, $0.examples.map(\.line)) })
    }

    @Test func cleanDataPassesEveryCheck() {
        let v = validate("id,x,kind,code\n1,0.5,a,AB1\n2,10,b,\n")
        #expect(failed(v).isEmpty)
        #expect(v.rows == 2)
    }

    @Test func eachBrokenRuleNamesItsLines() {
        let v = validate("id,x,kind,code\n1,0.5,a,AB1\n1,11,c,zz\n3,abc,,AB2\n4.5,-1,b,AB3\n")
        #expect(failed(v) == [
            "id.unique": [3], "id.type": [5], "x.max": [3], "x.min": [5], "x.type": [4],
            "kind.allowed": [3], "kind.nullable": [4], "code.pattern": [3],
        ])
    }

    @Test func missingColumnIsReportedWithTheSchemaLocationAndASuggestion() {
        let v = validate("id,x,knd,code\n1,1,a,AB1\n2,2,b,AB2\n")
        let check = v.checks().first { $0.check == "present" }
        #expect(check?.verdict == .fail)
        #expect(check?.message.contains("column 'kind' declared at schema.yaml:3:3 is not in data.csv") == true)
        #expect(check?.message.contains("did you mean 'knd'") == true)
    }

    @Test func wrongFieldCountAndRowBounds() {
        let v = validate("id,x,kind,code\n1,1,a\n")
        let f = failed(v)
        #expect(f[".field-count"] == [2])
        #expect(f[".rows"] != nil)
    }

    @Test func schemaDecoderReportsEveryProblemWithItsLocation() {
        let root = Node(.mapping([
            .init(key: Node(.scalar(Scalar("columns")), at: .init(file: "s.yaml", line: 1, column: 1)),
                  value: Node(.mapping([
                      .init(key: Node(.scalar(Scalar("a")), at: .init(file: "s.yaml", line: 2, column: 3)),
                            value: Node(.mapping([
                                .init(key: Node(.scalar(Scalar("tpye")), at: .init(file: "s.yaml", line: 2, column: 6)),
                                      value: Node(.scalar(Scalar("number")), at: .init(file: "s.yaml", line: 2, column: 12))),
                            ]), at: .init(file: "s.yaml", line: 2, column: 6))),
                  ]), at: .init(file: "s.yaml", line: 2, column: 3))),
        ]), at: .init(file: "s.yaml", line: 1, column: 1))
        let (schema, diagnostics) = DataSchemaDecoder.decode(root, file: "s.yaml")
        #expect(schema == nil)
        let rendered = diagnostics.map(DiagnosticRenderer.line)
        #expect(rendered.contains { $0.hasPrefix("s.yaml:2:6: error: unknown key 'tpye'") && $0.contains("did you mean 'type'") })
        #expect(rendered.contains { $0.contains("column 'a' has no 'type'") })
    }

    @Test func identicalDataShowsNoDrift() {
        var csv = "id,x,kind,code\n"
        for i in 0..<500 { csv += "\(i),\(Double(i % 100) / 10),\(i % 3 == 0 ? "a" : "b"),\n" }
        let a = validate(csv), b = validate(csv)
        let drift = DriftAnalysis.compare(reference: a, current: b)
        #expect(drift.map(\.test) == ["psi", "ks", "psi", "chi2"])
        #expect(drift.allSatisfy { $0.verdict == .pass })
        #expect(drift[1].statistic == 0)
    }

    @Test func shiftedDataFailsPSIAndKS() {
        var ref = "id,x,kind,code\n", cur = ref
        for i in 0..<1000 {
            ref += "\(i),\(Double(i % 100) / 20),a,\n"
            cur += "\(i),\(Double(i % 100) / 20 + 4),\(i % 2 == 0 ? "a" : "b"),\n"
        }
        let drift = DriftAnalysis.compare(reference: validate(ref), current: validate(cur))
        let byTest = Dictionary(uniqueKeysWithValues: drift.map { ($0.column + "." + $0.test, $0) })
        #expect(byTest["x.psi"]?.verdict == .fail)
        #expect(byTest["x.ks"]?.verdict == .fail)
        #expect(byTest["kind.chi2"]?.verdict == .fail)
        #expect(byTest["kind.psi"]?.verdict == .fail)
    }

    /// Drift of column x between two 5,000-row files, x = (i·7919 mod refLevels) / refScale and
    /// (i·104729 mod curLevels) / curScale, with `exact-limit` 1,000 and with 1,000,000.
    func driftAtTwoLimits(ref refLevels: Int, _ refScale: Double, current curLevels: Int, _ curScale: Double)
        -> (limited: [ValidationReport.Drift], unlimited: [ValidationReport.Drift]) {
        var limited = schema()
        limited.drift.exactLimit = 1000
        var unlimited = limited
        unlimited.drift.exactLimit = 1_000_000
        var ref = "id,x,kind,code\n", cur = ref
        for i in 0..<5000 {
            ref += "\(i),\(Double((i * 7919) % refLevels) / refScale),a,\n"
            cur += "\(i),\(Double((i * 104729) % curLevels) / curScale),a,\n"
        }
        return (DriftAnalysis.compare(reference: validate(ref, schema: limited), current: validate(cur, schema: limited)),
                DriftAnalysis.compare(reference: validate(ref, schema: unlimited), current: validate(cur, schema: unlimited)))
    }

    /// 5,000 distinct values: too many to count, so past 1,000 values the sample is a grid.
    @Test func largeSamplesSwitchToAGridAndStayClose() {
        let (gridded, exact) = driftAtTwoLimits(ref: 5000, 500, current: 5000, 550)
        let g = gridded.first { $0.test == "ks" }!, e = exact.first { $0.test == "ks" }!
        #expect(g.method.contains("grid points"))
        #expect(e.method.hasPrefix("exact"))
        #expect(abs(g.statistic - e.statistic) < 0.01)
    }

    /// A column of few distinct values is counted, not kept: its statistics stay exact however
    /// far past the exact limit it grows, and equal those of a limit it never reaches.
    @Test func fewDistinctValuesStayExactPastTheLimit() {
        let (counted, exact) = driftAtTwoLimits(ref: 1000, 100, current: 700, 80)
        let ks = counted.first { $0.test == "ks" }!
        #expect(ks.method.hasPrefix("exact"))
        #expect(ks.statistic > 0.05)
        #expect(counted == exact)
    }
}

@Suite struct NullTextsTests {
    /// The length and first-byte filters only speed the check up: every text is null exactly
    /// when it is one of the null texts, whatever its length or first byte (non-ASCII included).
    @Test func matchesExactlyTheNullTexts() {
        let nulls = ["", "NA", "null", "∅", "n/a", "N/A", "a null text longer than eight bytes", "é"]
        let table = NullTexts(nulls)
        var random = SeededRandom(seed: 5)
        let alphabet = Array("NAnul/∅é a-0.5".utf8)
        var texts = nulls + ["N", "NAN", "nul", "nulls", "∅∅", "0.53", "-12", "a null text longer than eight byteS", "\u{00}"]
        for _ in 0..<20_000 { texts.append(random.text(of: alphabet, upTo: 6)) }
        let known = Set(nulls.map { Array($0.utf8) })
        var wrong: [String] = []
        for text in texts {
            let bytes = Array(text.utf8)
            let isNull = bytes.withUnsafeBufferPointer { table.mayMatch($0) && table.matches($0) }
            if isNull != known.contains(bytes) { wrong.append(text) }
        }
        #expect(wrong.isEmpty, "\(wrong.prefix(10))")
    }
}

@Suite struct RadixSortTests {
    @Test func sortsLikeTheStandardLibraryIncludingNegativesZerosAndInfinities() {
        var state: UInt64 = 42
        var values: [Double] = [0, -0.0, .infinity, -.infinity, 1e-300, -1e-300, .greatestFiniteMagnitude]
        for _ in 0..<5000 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            values.append(Double(Int64(bitPattern: state) >> 20) / 1e6)
        }
        var radix = values
        RadixSort.sort(&radix)
        #expect(radix == values.sorted())
    }
}

@Suite struct NumericSampleTests {
    /// Few distinct values are sorted from their counts, many by the radix sort: both give what
    /// the standard sort gives (-0.0 before 0.0, as the radix sort orders bit patterns), fed a
    /// batch at a time or one by one, and a column that passes the distinct limit midway switches.
    @Test(arguments: [12, 300, ValueCounts.limit, ValueCounts.limit + 1, 50_000])
    func sortedExactSamplesWhateverTheirDistinctValues(distinct: Int) {
        var state: UInt64 = UInt64(distinct)
        func next() -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int(state >> 33)
        }
        let values: [Double] = (0..<60_000).map { i in
            let k = next() % distinct
            return k == 0 ? (i % 2 == 0 ? -0.0 : 0.0) : Double(k - distinct / 2) / 8
        }
        var batched = NumericSample(limit: 100_000), single = NumericSample(limit: 100_000)
        values.withUnsafeBufferPointer { all in
            var start = 0
            while start < all.count {
                let end = min(all.count, start + 1 + next() % 2000)
                batched.add(contentsOf: UnsafeBufferPointer(rebasing: all[start..<end]))
                start = end
            }
        }
        for x in values { single.add(x) }
        batched.finish()
        single.finish()
        let expected = values.sorted { $0 < $1 || ($0 == $1 && $0.sign == .minus && $1.sign == .plus) }
        #expect(batched.values.map(\.bitPattern) == expected.map(\.bitPattern))
        #expect(single.values.map(\.bitPattern) == expected.map(\.bitPattern))
        #expect(batched.count == values.count)
    }

    /// An id column comes in order: past the distinct limit it is kept in that order (no sort
    /// needed at the end), and a value out of order anywhere after still gets it sorted.
    @Test(arguments: [nil, 100, 2047, 2048, 2100, 4999])
    func valuesInOrderPastTheDistinctLimit(outOfOrderAt: Int?) {
        var values = (0..<5000).map { Double($0) / 4 }
        if let i = outOfOrderAt { values[i] = -1 }
        var sample = NumericSample(limit: 10_000)
        values.withUnsafeBufferPointer { all in
            var start = 0
            while start < all.count {
                let end = min(all.count, start + 700)
                sample.add(contentsOf: UnsafeBufferPointer(rebasing: all[start..<end]))
                start = end
            }
        }
        sample.finish()
        #expect(sample.values == values.sorted())
        #expect(sample.isExact && sample.count == 5000)
    }

    /// Continuous values from the start, or first 30,000 values of 100 distinct ones (counted,
    /// past the limit) and then continuous ones (the counts become the grid at once).
    @Test(arguments: [0, 30_000])
    func gridCountsMatchBinarySearchBinning(countedFirst: Int) {
        var state: UInt64 = 7
        func next() -> Double {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Double(state >> 11) / Double(1 << 53)
        }
        var sample = NumericSample(limit: 10_000)
        var all: [Double] = []
        for i in 0..<300_000 {
            let v = next() * 10
            let x = i < countedFirst ? (v * 10).rounded(.down) : v * v * v - 50
            sample.add(x)
            all.append(x)
        }
        sample.finish()
        let edges = try! #require(sample.edges)
        var expected = [Int](repeating: 0, count: edges.count + 1)
        for x in all { expected[NumericSample.bin(of: x, edges: edges)] += 1 }
        #expect(sample.cumulativeCounts(at: edges) == Array(expected.prefix(edges.count).reduce(into: [Int]()) { $0.append(($0.last ?? 0) + $1) }))
        #expect(sample.count == 300_000)
        // Points of another grid (the other file's edges): the same as asking one by one.
        let points = [-1e9, -50, -49.5] + (0..<500).map { _ in next() * 1100 - 60 } + Array(edges.prefix(20)) + [1e9, .infinity]
        #expect(sample.cumulativeCounts(at: points) == points.map(sample.countAtOrBelow))
    }
}

@Suite struct GridIndexTests {
    /// The table only speeds the search up: every value gets the bin a binary search over
    /// all edges gives, for even, clustered and heavy-tailed edges, at and between edges.
    @Test func agreesWithBinarySearchEverywhere() {
        var state: UInt64 = 11
        func next() -> Double {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Double(state >> 11) / Double(1 << 53)
        }
        let shapes: [[Double]] = [
            (0..<4095).map { Double($0) / 10 },
            ((0..<4000).map { 1 + Double($0) * 1e-9 } + [1e9, 2e9]).sorted(),
            (0..<4095).map { exp(Double($0) / 100) },
            [3.5],
            [-.infinity, 0, 1, .infinity],
        ]
        for edges in shapes {
            let index = GridIndex(edges: edges)
            var probes = edges + edges.map { $0.nextUp } + edges.map { $0.nextDown } + [-.infinity, .infinity, 0, -1e300, 1e300]
            let lo = edges.first!, hi = edges.last!
            for _ in 0..<20_000 {
                let u = next()
                probes.append(lo.isFinite && hi.isFinite ? lo + (hi - lo) * (u * 1.2 - 0.1) : u * 10)
            }
            for x in probes where !x.isNaN {
                #expect(index.bin(of: x) == NumericSample.bin(of: x, edges: edges), "\(x) in \(edges.prefix(3))…")
            }
        }
    }
}

@Suite struct CategoryCountsTests {
    /// Values short and long (one word, several words, an odd tail), many of them (the table
    /// grows), counted as a dictionary counts them; past the limit new values are refused.
    @Test func countsLikeADictionaryAndStopsAtTheLimit() {
        var state: UInt64 = 13
        func next(_ n: Int) -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int(state >> 33) % n
        }
        let values = (0..<3_000).map { i in String(repeating: "x", count: next(20)) + String(i % 1_500) }
        var counts = CategoryCounts()
        var expected: [String: Int] = [:]
        for _ in 0..<40_000 {
            let value = values[next(values.count)]
            expected[value, default: 0] += 1
            var text = value
            let index = text.withUTF8 { counts.add($0) }
            #expect(counts.names[index] == value)
        }
        #expect(counts.names.count == expected.count)
        for (value, n) in expected { #expect(counts.count(of: value) == n, "\(value)") }
        #expect(counts.count(of: "never seen") == 0)
        #expect(counts.total == 40_000)

        var full = CategoryCounts()
        for i in 0..<CategoryCounts.limit { var t = "v\(i)"; t.withUTF8 { _ = full.add($0) } }
        #expect(!full.overflowed)
        var known = "v7", fresh = "new"
        #expect(known.withUTF8 { full.add($0) } == 7, "a known value is still counted")
        #expect(fresh.withUTF8 { full.add($0) } == -1)
        #expect(full.overflowed && full.count(of: "v7") == 2)
    }
}
