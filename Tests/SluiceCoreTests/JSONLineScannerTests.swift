import Foundation
import Testing
@testable import SluiceCore

@Suite struct JSONLineScannerTests {
    /// Scans `line` for `columns`: each column's text (nil for null or missing), or the problem.
    func scan(_ line: String, _ columns: [String]) -> Result<[String?], JSONLineScanner.Problem> {
        var scanner = JSONLineScanner(columns: columns)
        var bytes = Array(line.utf8)
        return bytes.withUnsafeMutableBufferPointer { buffer in
            if let problem = scanner.scan(buffer) { return .failure(problem) }
            return .success(columns.indices.map { c in scanner.value(c).map { String(decoding: $0, as: UTF8.self) } })
        }
    }

    @Test func scalarsKeepTheirTextAndStringsAreUnescaped() {
        let line = #"{"id": 7, "x": -1.5e-3, "name": "a \"b\"\\c\/d\ttab\u00e9\ud83d\ude00", "ok": true, "no": false, "gone": null, "extra": [1, 2]}"#
        #expect(scan(line, ["id", "x", "name", "ok", "no", "gone", "missing"]) == .failure(.nested(key: "extra")))
        let flat = #" { "x" : -1.5e-3 ,"id":7,"name":"a \"b\"\\c\/d\ttab\u00e9\ud83d\ude00","ok":true,"no":false,"gone":null,"other":"skipped"} "#
        #expect(scan(flat, ["id", "x", "name", "ok", "no", "gone", "missing"])
            == .success(["7", "-1.5e-3", "a \"b\"\\c/d\ttabé😀", "true", "false", nil, nil]))
        #expect(scan("{}", ["a"]) == .success([nil]))
        #expect(scan(#"{"a": 1, "a": 2}"#, ["a"]) == .success(["2"]))
    }

    @Test func everyMalformedLineIsRefusedWithWhere() {
        for (line, problem) in [
            ("not json", JSONLineScanner.Problem.notAnObject), ("[1, 2]", .notAnObject), (#"{"a": 01}"#, .malformed(offset: 8)),
            (#"{"a": 1.}"#, .malformed(offset: 8)), (#"{"a": -}"#, .malformed(offset: 7)), (#"{"a": "open}"#, .malformed(offset: 12)),
            ("{\"a\": \"tab\there\"}", .malformed(offset: 10)), (#"{"a": "\x"}"#, .malformed(offset: 6)),
            (#"{"a": "\ud800"}"#, .malformed(offset: 6)), (#"{"a": 1} x"#, .malformed(offset: 9)), (#"{"a": 1,}"#, .malformed(offset: 8)),
            (#"{"a" 1}"#, .malformed(offset: 5)), (#"{"a": tru}"#, .malformed(offset: 6)), (#"{"a": {"b": 1}}"#, .nested(key: "a")),
        ] {
            #expect(scan(line, ["a"]) == .failure(problem), "\(line)")
        }
        #expect(JSONLineScanner.Problem.malformed(offset: 8).message == "not valid JSON at byte 9 of the line")
    }

    /// Objects written by Foundation's serializer, with random keys, text (escapes, control
    /// characters, astral scalars), numbers and nulls, read back as they were written.
    @Test func foundationsOutputReadsBack() throws {
        var random = SeededRandom(seed: 17)
        let pieces = ["a", "\"", "\\", "/", "\n", "\u{1}", "é", "😀", " ", ",", ":", "{", "}"]
        let columns = ["k0", "k1", "k2", "k3"]
        for round in 0..<500 {
            var object: [String: Any] = [:]
            var expected: [String?] = []
            for c in columns {
                switch random.next(5) {
                case 0: expected.append(nil)
                case 1: object[c] = NSNull(); expected.append(nil)
                case 2:
                    let v = random.next(2_000_000) - 1_000_000
                    object[c] = v
                    expected.append(String(v))
                default:
                    let text = (0..<random.next(10)).map { _ in pieces[random.next(pieces.count)] }.joined()
                    object[c] = text
                    expected.append(text)
                }
            }
            object["unused\(random.next(3))"] = "x"
            let line = String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
            #expect(scan(line, columns) == .success(expected), "round \(round): \(line)")
        }
    }
}
