/// Reads one line of a JSON-lines file, an object of scalar values (RFC 8259: strings with
/// their escapes, numbers, true, false, null), into fields aligned with a schema's columns,
/// without building a dictionary or a String per value. A number keeps the text it was written
/// as (the validator reads it as it reads CSV text); a string is unescaped; null and a missing
/// key are nil. Keys not in the schema are skipped; of a repeated key, the last value counts.
/// Nested objects and arrays are refused, so nothing here recurses.
public struct JSONLineScanner {
    private let keys: [[UInt8]]
    /// Per column: where its value is in the line and its length; -1 when it has no value.
    private var starts: [Int]
    private var lengths: [Int]
    private var line = UnsafeMutableBufferPointer<UInt8>(start: nil, count: 0)
    /// Lines usually list the keys in one order: the column after the last one matched is tried first.
    private var expected = 0

    public init(columns: [String]) {
        keys = columns.map { Array($0.utf8) }
        starts = Array(repeating: 0, count: columns.count)
        lengths = Array(repeating: -1, count: columns.count)
    }

    public enum Problem: Error, Equatable, Sendable {
        case notAnObject, nested(key: String), malformed(offset: Int)

        public var message: String {
            switch self {
            case .notAnObject: return "not a JSON object"
            case .nested(let key): return "the value of '\(key)' is an object or array; only scalar values can be checked"
            case .malformed(let offset): return "not valid JSON at byte \(offset + 1) of the line"
            }
        }
    }

    /// Reads `line`, unescaping strings in place (never longer than their escaped text); the
    /// fields stay valid until the next call and while `line`'s bytes do.
    public mutating func scan(_ line: UnsafeMutableBufferPointer<UInt8>) -> Problem? {
        self.line = line
        for c in lengths.indices { lengths[c] = -1 }
        expected = 0
        var reader = Reader(UnsafeBufferPointer(line))
        reader.skipSpace()
        guard reader.take(UInt8(ascii: "{")) else { return .notAnObject }
        reader.skipSpace()
        if reader.take(UInt8(ascii: "}")) { return reader.atEndAfterSpace() ? nil : .malformed(offset: reader.at) }
        while true {
            reader.skipSpace()
            guard reader.peek == UInt8(ascii: "\""), let key = string(&reader) else { return .malformed(offset: reader.at) }
            reader.skipSpace()
            guard reader.take(UInt8(ascii: ":")) else { return .malformed(offset: reader.at) }
            reader.skipSpace()
            let column = self.column(named: key)
            switch reader.peek {
            case UInt8(ascii: "\""):
                guard let value = string(&reader) else { return .malformed(offset: reader.at) }
                if let column { (starts[column], lengths[column]) = value }
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                return .nested(key: String(decoding: bytes(key), as: UTF8.self))
            default:
                let start = reader.at
                guard let isNull = reader.literalOrNumber() else { return .malformed(offset: reader.at) }
                if let column { (starts[column], lengths[column]) = isNull ? (0, -1) : (start, reader.at - start) }
            }
            reader.skipSpace()
            if reader.take(UInt8(ascii: ",")) { continue }
            guard reader.take(UInt8(ascii: "}")) else { return .malformed(offset: reader.at) }
            return reader.atEndAfterSpace() ? nil : .malformed(offset: reader.at)
        }
    }

    /// Column c's value as bytes, nil for null or a missing key.
    public func value(_ c: Int) -> UnsafeBufferPointer<UInt8>? {
        lengths[c] < 0 ? nil : bytes((starts[c], lengths[c]))
    }

    public var columnCount: Int { keys.count }

    private func bytes(_ span: (Int, Int)) -> UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(rebasing: line[span.0..<(span.0 + span.1)])
    }

    private mutating func column(named key: (Int, Int)) -> Int? {
        let name = bytes(key)
        let n = keys.count
        guard n > 0 else { return nil }
        var c = expected < n ? expected : 0
        for _ in 0..<n {
            if keys[c].count == name.count, keys[c].withUnsafeBufferPointer({ name.elementsEqual($0) }) {
                expected = c + 1
                return c
            }
            c = c + 1 == n ? 0 : c + 1
        }
        return nil
    }

    /// A string token's place in the line, unescaped there.
    private func string(_ reader: inout Reader) -> (Int, Int)? {
        reader.at += 1
        let start = reader.at
        guard let end = reader.stringEnd() else { return nil }
        reader.at = end + 1
        if !reader.hadEscape { return (start, end - start) }
        guard let length = JSONEscapes.unescape(UnsafeMutableBufferPointer(rebasing: line[start..<end])) else {
            reader.at = start - 1  // a bad escape: the problem is this string
            return nil
        }
        return (start, length)
    }
}

/// A cursor over one line's bytes.
private struct Reader {
    let p: UnsafeBufferPointer<UInt8>
    var at = 0
    var hadEscape = false

    init(_ p: UnsafeBufferPointer<UInt8>) { self.p = p }

    var peek: UInt8 { at < p.count ? p[at] : 0 }

    mutating func take(_ byte: UInt8) -> Bool {
        guard peek == byte, at < p.count else { return false }
        at += 1
        return true
    }

    mutating func skipSpace() {
        while at < p.count, p[at] == 32 || p[at] == 9 || p[at] == 13 || p[at] == 10 { at += 1 }
    }

    mutating func atEndAfterSpace() -> Bool {
        skipSpace()
        return at == p.count
    }

    /// The closing quote of the string starting at `at` (past its opening quote); control
    /// characters must be escaped. Sets `hadEscape`.
    mutating func stringEnd() -> Int? {
        hadEscape = false
        var i = at
        while i < p.count {
            let b = p[i]
            if b == UInt8(ascii: "\"") { return i }
            if b == UInt8(ascii: "\\") {
                hadEscape = true
                i += 2
                continue
            }
            if b < 0x20 {
                at = i
                return nil
            }
            i += 1
        }
        at = p.count
        return nil
    }

    /// true, false, null or a number (JSON's grammar); returns whether it was null, nil if none.
    mutating func literalOrNumber() -> Bool? {
        switch peek {
        case UInt8(ascii: "t"): return word("true") ? false : nil
        case UInt8(ascii: "f"): return word("false") ? false : nil
        case UInt8(ascii: "n"): return word("null") ? true : nil
        default: break
        }
        _ = take(UInt8(ascii: "-"))
        if take(UInt8(ascii: "0")) {
            if digits() > 0 { return nil }  // no leading zeros
        } else if digits() == 0 {
            return nil
        }
        if take(UInt8(ascii: ".")), digits() == 0 { return nil }
        if peek | 0x20 == UInt8(ascii: "e") {
            at += 1
            if !take(UInt8(ascii: "+")) { _ = take(UInt8(ascii: "-")) }
            if digits() == 0 { return nil }
        }
        return false
    }

    private mutating func word(_ text: StaticString) -> Bool {
        let n = text.utf8CodeUnitCount
        guard at + n <= p.count else { return false }
        for k in 0..<n where p[at + k] != text.utf8Start[k] { return false }
        at += n
        return true
    }

    private mutating func digits() -> Int {
        let start = at
        while at < p.count, p[at] &- 48 < 10 { at += 1 }
        return at - start
    }
}

/// JSON string escapes (`\"`, `\\`, `\/`, `\b`, `\f`, `\n`, `\r`, `\t`, `\uXXXX` with
/// surrogate pairs) decoded to UTF-8 in place: the result is never longer than the text.
enum JSONEscapes {
    /// The unescaped length, or nil for a bad escape.
    static func unescape(_ text: UnsafeMutableBufferPointer<UInt8>) -> Int? {
        var i = 0, w = 0
        func put(_ b: UInt8) {
            text[w] = b
            w += 1
        }
        while i < text.count {
            let b = text[i]
            guard b == UInt8(ascii: "\\") else {
                put(b)
                i += 1
                continue
            }
            guard i + 1 < text.count else { return nil }
            i += 2
            switch text[i - 1] {
            case UInt8(ascii: "\""): put(UInt8(ascii: "\""))
            case UInt8(ascii: "\\"): put(UInt8(ascii: "\\"))
            case UInt8(ascii: "/"): put(UInt8(ascii: "/"))
            case UInt8(ascii: "b"): put(8)
            case UInt8(ascii: "f"): put(12)
            case UInt8(ascii: "n"): put(10)
            case UInt8(ascii: "r"): put(13)
            case UInt8(ascii: "t"): put(9)
            case UInt8(ascii: "u"):
                let view = UnsafeBufferPointer(text)
                guard var scalar = hex4(view, at: i) else { return nil }
                i += 4
                if scalar >= 0xD800, scalar < 0xDC00 {
                    // A high surrogate must be followed by an escaped low one.
                    guard i + 6 <= text.count, text[i] == UInt8(ascii: "\\"), text[i + 1] == UInt8(ascii: "u"),
                          let low = hex4(view, at: i + 2), low >= 0xDC00, low < 0xE000 else { return nil }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    i += 6
                } else if scalar >= 0xDC00, scalar < 0xE000 {
                    return nil
                }
                // Six bytes of escape become at most four of UTF-8 (twelve at most four for a pair).
                guard let u = Unicode.Scalar(scalar), let encoded = UTF8.encode(u) else { return nil }
                for byte in encoded { put(byte) }
            default: return nil
            }
        }
        return w
    }

    private static func hex4(_ text: UnsafeBufferPointer<UInt8>, at i: Int) -> UInt32? {
        guard i + 4 <= text.count else { return nil }
        var v: UInt32 = 0
        for k in i..<(i + 4) {
            let b = text[k] | 0x20
            let d: UInt8
            if b &- 48 < 10 { d = b &- 48 } else if b >= UInt8(ascii: "a"), b <= UInt8(ascii: "f") { d = b - 87 } else { return nil }
            v = v << 4 | UInt32(d)
        }
        return v
    }
}
