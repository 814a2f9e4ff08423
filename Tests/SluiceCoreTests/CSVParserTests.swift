import Testing
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
        var state: UInt64 = 9
        func next(_ n: Int) -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int(state >> 33) % n
        }
        let alphabet = Array("ab;,,,ab;,,,a,\r\n".utf8)
        for round in 0..<300 {
            let bytes = (0..<next(300)).map { _ in alphabet[next(alphabet.count)] }
            let text = String(decoding: bytes, as: UTF8.self)
            var expected: [(Int, [String])] = []
            // On bytes: as Characters, "\r\n" is one and would not split at "\n".
            for (i, line) in bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).enumerated() {
                var body = line
                if body.last == UInt8(ascii: "\r") { body = body.dropLast() }
                if body.isEmpty { continue }
                expected.append((i + 1, body.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }))
            }
            let got = parse(text, chunk: 1 + next(40))
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

    @Test func numbersParseExactlyAsTheStandardLibraryDoes() {
        for text in ["0", "-0.5", "3.14159", "1e-7", "123456789012345678", "0.1", "2.5E3", "+7", "1.7976931348623157e308", "5."] {
            let fast = Array(text.utf8).withUnsafeBufferPointer { FieldParsing.double($0) }
            #expect(fast == Double(text), "\(text)")
        }
        for text in ["abc", "1.2.3", "", "-", "0x1p3", "1,5"] {
            #expect(Array(text.utf8).withUnsafeBufferPointer { FieldParsing.double($0) } == nil, "\(text)")
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
}
