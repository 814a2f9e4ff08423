import Testing
import Foundation
@testable import SluiceCore

@Suite struct CSVParserTests {
    /// Parses `text` fed in chunks of `chunk` bytes; returns (line, fields) and errors.
    func parse(_ text: String, chunk: Int = 1 << 20) -> (records: [(Int, [String])], errors: [CSVParser.SyntaxError]) {
        var parser = CSVParser()
        var records: [(Int, [String])] = []
        var errors: [CSVParser.SyntaxError] = []
        func onRecord(_ r: borrowing CSVParser.Record, _ line: Int) { records.append((line, r.strings())) }
        func onError(_ e: CSVParser.SyntaxError) { errors.append(e) }
        let bytes = Array(text.utf8)
        var i = 0
        while i < bytes.count {
            let end = min(bytes.count, i + chunk)
            bytes[i..<end].withUnsafeBytes { parser.feed($0, onRecord, onError: onError) }
            i = end
        }
        parser.finish(onRecord, onError: onError)
        return (records, errors)
    }

    /// Lines without quotes take the eight-bytes-at-a-time splitter: on random lines of every
    /// length (delimiters at word edges, empty fields, CRLF, blank lines) and random chunk
    /// sizes, it agrees with splitting the text the obvious way.
    @Test func unquotedLinesSplitAsTheObviousSplitDoes() {
        var random = SeededRandom(seed: 9)
        let alphabet = Array("ab;,,,ab;,,,a,\r\n".utf8)
        for round in 0..<300 {
            let bytes = (0..<random.next(300)).map { _ in alphabet[random.next(alphabet.count)] }
            let text = String(decoding: bytes, as: UTF8.self)
            var expected: [(Int, [String])] = []
            // On bytes: as Characters, "\r\n" is one and would not split at "\n".
            for (i, line) in bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).enumerated() {
                var body = line
                if body.last == UInt8(ascii: "\r") { body = body.dropLast() }
                if body.isEmpty { continue }
                expected.append((i + 1, body.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }))
            }
            let got = parse(text, chunk: 1 + random.next(40))
            #expect(got.errors.isEmpty)
            #expect(got.records.map(\.0) == expected.map(\.0), "round \(round): \(Array(text.utf8))")
            #expect(got.records.map(\.1) == expected.map(\.1), "round \(round): \(Array(text.utf8))")
        }
    }

    static let sample = "a,b,c\r\n1,\"x, \"\"quoted\"\"\",3\n\n4,\"multi\nline\",6\n7,,\n8,9,10"

    @Test func quotingNewlinesAndCRLF() {
        let (records, errors) = parse(Self.sample)
        #expect(errors.isEmpty)
        #expect(records.map(\.0) == [1, 2, 4, 6, 7])
        #expect(records.map(\.1) == [["a", "b", "c"], ["1", "x, \"quoted\"", "3"], ["4", "multi\nline", "6"], ["7", "", ""], ["8", "9", "10"]])
    }

    @Test(arguments: [1, 2, 3, 5, 7, 64])
    func chunkBoundariesDoNotChangeTheResult(chunk: Int) {
        let whole = parse(Self.sample)
        let split = parse(Self.sample, chunk: chunk)
        #expect(split.records.map(\.0) == whole.records.map(\.0))
        #expect(split.records.map(\.1) == whole.records.map(\.1))
    }

    @Test func malformedRowsAreReportedWithTheirLine() {
        let (records, errors) = parse("a,b\n1,2\n3,\"x\"y\n5,6\n7,\"open\n")
        #expect(records.map(\.1) == [["a", "b"], ["1", "2"], ["5", "6"]])
        #expect(errors.map(\.line) == [3, 5])
        #expect(errors[0].message.contains("closing quote"))
        #expect(errors[1].message.contains("unterminated"))
    }

    /// The validator's reading of `text` as a number.
    func parsed(_ text: String) -> Double? {
        Array(text.utf8).withUnsafeBufferPointer { FieldParsing.double($0) }
    }

    @Test func numbersParseExactlyAsTheStandardLibraryDoes() {
        for text in ["0", "-0.5", "3.14159", "1e-7", "123456789012345678", "0.1", "2.5E3", "+7", "1.7976931348623157e308", "5."] {
            let fast = parsed(text)
            #expect(fast == Double(text), "\(text)")
        }
        for text in ["abc", "1.2.3", "", "-", "0x1p3", "1,5"] {
            #expect(parsed(text) == nil, "\(text)")
        }
    }

    /// The eight-bytes-at-once path for short decimals and the byte loop agree with the
    /// standard library on every shape: points anywhere, several points, signs inside.
    @Test func shortDecimalsParseAsTheStandardLibraryDoes() {
        var state: UInt64 = 5
        let alphabet = Array("0123456789.0123456789.-+".utf8)
        var mismatches: [String] = []
        for _ in 0..<200_000 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            let length = Int(state >> 60) % 11
            var bytes: [UInt8] = []
            for k in 0..<length { bytes.append(alphabet[Int((state >> UInt64(4 * k)) & 0xFFFF) % alphabet.count]) }
            let text = String(decoding: bytes, as: UTF8.self)
            if bytes.withUnsafeBufferPointer({ FieldParsing.double($0) }) != Double(text) { mismatches.append(text) }
        }
        #expect(mismatches.isEmpty, "\(mismatches.prefix(10))")
    }

    /// Exponents, long decimals, leading zeros and every sign: the byte loop's exact path
    /// (15 significant digits, a power of ten up to 22) and its strtod fallback agree with the
    /// standard library on random text of those characters.
    @Test func scientificAndLongDecimalsParseAsTheStandardLibraryDoes() {
        var random = SeededRandom(seed: 11)
        let alphabet = Array("0123456789012345678900000.e-+E".utf8)
        var mismatches: [String] = []
        for _ in 0..<200_000 {
            let text = random.text(of: alphabet, upTo: 25)
            if parsed(text) != Double(text) { mismatches.append(text) }
        }
        // The shapes numeric writers produce: printf's %.6e and %.9f, and the shortest round trip.
        for _ in 0..<50_000 {
            let x = Double(bitPattern: UInt64(truncatingIfNeeded: random.next(1 << 30)) << 34 | UInt64(random.next(1 << 30)))
            guard x.isFinite else { continue }
            for text in [String(x), "\(x.magnitude < 1e15 ? String(Int64(x)) : "1")", String(x / 1e300)] {
                if parsed(text) != Double(text) { mismatches.append(text) }
            }
        }
        for text in ["-1.234567e-05", "9.999999e+22", "1e22", "1e23", "1.5e-22", "0.000000000000000000000001234", "00012.5",
                     "123456789012345.6", "1234567890123456.7", "-0.85634732165438451", "1e400", "1e-400", "4.9e-324", "1E5"] {
            if parsed(text) != Double(text) { mismatches.append(text) }
        }
        #expect(mismatches.isEmpty, "\(mismatches.prefix(10))")
    }

    /// Records with quoted fields (delimiters, doubled quotes and newlines inside) parse back
    /// to the fields they were written from, at every chunk size, with their first lines.
    @Test func quotedRecordsRoundTrip() {
        var random = SeededRandom(seed: 3)
        let alphabet = Array("ab,\"\n x".utf8)
        for round in 0..<200 {
            var text = ""
            var expected: [(Int, [String])] = []
            var line = 1
            for _ in 0..<(1 + random.next(8)) {
                var fields: [String] = []
                var written: [String] = []
                for _ in 0..<(1 + random.next(6)) {
                    let field = String(decoding: (0..<random.next(12)).map { _ in alphabet[random.next(alphabet.count)] }, as: UTF8.self)
                    let mustQuote = field.contains(",") || field.contains("\"") || field.contains("\n") || field.isEmpty || random.next(3) == 0
                    fields.append(field)
                    written.append(mustQuote ? "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : field)
                }
                expected.append((line, fields))
                let record = written.joined(separator: ",")
                line += record.filter { $0 == "\n" }.count + 1
                text += record + (random.next(4) == 0 ? "\r\n" : "\n")
            }
            let got = parse(text, chunk: 1 + random.next(50))
            #expect(got.errors.isEmpty, "round \(round)")
            #expect(got.records.map(\.0) == expected.map(\.0), "round \(round): \(text)")
            #expect(got.records.map(\.1) == expected.map(\.1), "round \(round): \(text)")
        }
    }

    /// Integer columns read their text in one pass: the same value as the decimal parser for
    /// every integer text, and nil for everything that is not one.
    @Test func integersParseAsDecimalsDo() {
        var random = SeededRandom(seed: 29)
        let alphabet = Array("0123456789012345678901234567890123456789-+.e ".utf8)
        var mismatches: [String] = []
        for _ in 0..<100_000 {
            let bytes = Array(random.text(of: alphabet, upTo: 23).utf8)
            let text = String(decoding: bytes, as: UTF8.self)
            let expected = bytes.withUnsafeBufferPointer { FieldParsing.isInteger($0) ? FieldParsing.double($0) : nil }
            let got = bytes.withUnsafeBufferPointer { FieldParsing.integer($0) }
            if got != expected || got?.sign != expected?.sign { mismatches.append(text) }
        }
        #expect(mismatches.isEmpty, "\(mismatches.prefix(10))")
    }

    /// Sixteen to nineteen significant digits with the point anywhere (the shortest round-trip
    /// text of a Double, and longer) are rounded as strtod rounds them, halfway cases included.
    @Test func longMantissasRoundAsStrtodDoes() {
        var random = SeededRandom(seed: 31)
        var mismatches: [String] = []
        for round in 0..<200_000 {
            let digits = 16 + random.next(4)
            var text = String(1 + random.next(9)) + (0..<(digits - 1)).map { _ in String(random.next(10)) }.joined()
            // Halfway cases: digits that end in 5 followed by zeros are the hard ones.
            if round % 5 == 0 { text = String(text.prefix(digits - 4)) + "5000" }
            let point = random.next(digits + 1)
            text.insert(".", at: text.index(text.startIndex, offsetBy: point))
            if random.next(3) == 0 { text += "e" + String(random.next(30) - 15) }
            if random.next(2) == 0 { text = "-" + text }
            if parsed(text) != Double(text) { mismatches.append(text) }
        }
        for _ in 0..<100_000 {
            let x = Double(bitPattern: UInt64(truncatingIfNeeded: random.next(1 << 30)) << 34 | UInt64(random.next(1 << 30)) << 4 | UInt64(random.next(16)))
            guard x.isFinite, x.magnitude > 1e-30, x.magnitude < 1e30 else { continue }
            let text = "\(x)"
            if parsed(text) != x { mismatches.append(text) }
        }
        #expect(mismatches.isEmpty, "\(mismatches.prefix(10))")
    }
}

