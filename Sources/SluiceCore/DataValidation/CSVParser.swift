#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A streaming CSV parser (RFC 4180: quoted fields, doubled quotes, newlines inside
/// quotes, CRLF or LF line ends). Bytes are pushed in chunks of any size; every
/// complete record is handed to the callback with the physical line it started on.
/// Memory stays bounded by the largest record, whatever the file size.
public struct CSVParser {
    /// One record's fields, valid only inside the callback that receives it.
    public struct Record {
        let base: UnsafeMutablePointer<UInt8>
        /// Field i is base[bounds[2i] ..< bounds[2i + 1]].
        let bounds: UnsafePointer<Int>
        public let count: Int

        public subscript(_ i: Int) -> UnsafeBufferPointer<UInt8> {
            precondition(i >= 0 && i < count, "field \(i) of a record of \(count)")
            return UnsafeBufferPointer(start: base + bounds[2 * i], count: bounds[2 * i + 1] - bounds[2 * i])
        }

        public func string(_ i: Int) -> String { String(decoding: self[i], as: UTF8.self) }

        /// Every field as text (for a header).
        public func strings() -> [String] {
            var all: [String] = []
            for i in 0..<count { all.append(string(i)) }
            return all
        }
    }

    public struct SyntaxError: Error, Hashable, Sendable {
        public var line: Int
        public var message: String
    }

    public let delimiter: UInt8
    private var buffer: [UInt8] = []
    /// Physical line (1-based) at the start of the unconsumed part of `buffer`.
    private var line = 1
    private let bounds = FieldBounds()

    public init(delimiter: UInt8 = UInt8(ascii: ",")) {
        self.delimiter = delimiter
    }

    /// Parses every complete record in `chunk` (plus what was left from earlier chunks).
    public mutating func feed(
        _ chunk: UnsafeRawBufferPointer,
        _ onRecord: (borrowing Record, Int) -> Void,
        onError: (SyntaxError) -> Void
    ) {
        buffer.append(contentsOf: chunk)
        parse(final: false, onRecord, onError: onError)
    }

    /// Parses the last record when the data does not end with a newline.
    public mutating func finish(_ onRecord: (borrowing Record, Int) -> Void, onError: (SyntaxError) -> Void) {
        parse(final: true, onRecord, onError: onError)
        buffer.removeAll()
    }

    private static let quote = UInt8(ascii: "\"")
    private static let lf = UInt8(ascii: "\n")
    private static let cr = UInt8(ascii: "\r")

    private mutating func parse(final: Bool, _ onRecord: (borrowing Record, Int) -> Void, onError: (SyntaxError) -> Void) {
        let delimiter = self.delimiter
        let bounds = self.bounds
        var consumed = 0
        var line = self.line
        buffer.withUnsafeMutableBufferPointer { whole in
            guard let p = whole.baseAddress else { return }
            let n = whole.count
            var recordStart = 0
            while recordStart < n {
                // Find the record's end first (a newline outside quotes), so a record cut
                // by the chunk boundary is left untouched until its bytes arrive.
                var limit: Int
                var inQuotes = false
                var newlines = 0
                // Fast path (memchr, vectorised by libc): the next newline, with no quote before it.
                let nl = Self.index(of: Self.lf, in: p, from: recordStart, to: n)
                let hasQuote = memchr(p + recordStart, Int32(Self.quote), nl - recordStart) != nil
                if !hasQuote {
                    limit = nl
                } else {
                    (limit, inQuotes, newlines) = Self.quotedRecordEnd(p, from: recordStart, newline: nl, count: n)
                }
                if limit == n, !final { break }
                let next = limit < n ? limit + 1 : n
                var lineEnd = limit
                if lineEnd > recordStart, p[lineEnd - 1] == Self.cr, !inQuotes { lineEnd -= 1 }

                // A record has at most one field more than it has bytes.
                let b = bounds.reserve(fields: lineEnd - recordStart + 1)
                let fields: Int
                var problem: String?
                if inQuotes {
                    problem = "unterminated quoted field"
                    fields = 0
                } else if hasQuote {
                    (fields, problem) = Self.splitQuoted(p, recordStart, lineEnd, delimiter, into: b)
                } else {
                    fields = Self.split(p, recordStart, lineEnd, delimiter, into: b)
                }
                if let problem {
                    onError(SyntaxError(line: line, message: problem))
                } else if lineEnd > recordStart {  // a blank line is not a record
                    onRecord(Record(base: p, bounds: b, count: fields), line)
                }
                line += newlines + (limit < n ? 1 : 0)
                recordStart = next
                consumed = next
            }
        }
        self.line = line
        if consumed > 0 { buffer.removeFirst(consumed) }
    }

    /// Splits a line without quotes at each delimiter, eight bytes at a time: XOR with the
    /// delimiter in every byte turns delimiters into zero bytes, which the mask then marks
    /// exactly (no borrow crosses bytes). Returns the number of fields.
    @inline(__always)
    private static func split(_ p: UnsafeMutablePointer<UInt8>, _ start: Int, _ end: Int, _ delimiter: UInt8,
                              into b: UnsafeMutablePointer<Int>) -> Int {
        let pattern = UInt64(delimiter) &* 0x0101_0101_0101_0101
        let low7: UInt64 = 0x7F7F_7F7F_7F7F_7F7F
        var fields = 0
        var fieldStart = start
        var i = start
        while i + 8 <= end {
            let w = UInt64(littleEndian: UnsafeRawPointer(p + i).loadUnaligned(as: UInt64.self)) ^ pattern
            var zeros = ~(((w & low7) &+ low7) | w | low7)
            while zeros != 0 {
                let at = i + zeros.trailingZeroBitCount >> 3
                b[2 * fields] = fieldStart
                b[2 * fields + 1] = at
                fields += 1
                fieldStart = at + 1
                zeros &= zeros &- 1
            }
            i += 8
        }
        while i < end {
            if p[i] == delimiter {
                b[2 * fields] = fieldStart
                b[2 * fields + 1] = i
                fields += 1
                fieldStart = i + 1
            }
            i += 1
        }
        b[2 * fields] = fieldStart
        b[2 * fields + 1] = end
        return fields + 1
    }

    /// The first `byte` in p[from..<to], or `to` (memchr, vectorised by libc).
    @inline(__always)
    private static func index(of byte: UInt8, in p: UnsafeMutablePointer<UInt8>, from: Int, to: Int) -> Int {
        memchr(p + from, Int32(byte), to - from).map { UnsafeMutablePointer<UInt8>($0.assumingMemoryBound(to: UInt8.self)) - p } ?? to
    }

    /// Where a record with quotes ends: the first newline outside quotes, found by jumping
    /// from quote to quote with memchr (a doubled quote is two toggles). Returns the end (`n`
    /// when the data ends first), whether it ends inside quotes, and the newlines inside quotes.
    private static func quotedRecordEnd(_ p: UnsafeMutablePointer<UInt8>, from start: Int, newline: Int,
                                        count n: Int) -> (Int, Bool, Int) {
        func find(_ byte: UInt8, _ from: Int, _ to: Int) -> Int { index(of: byte, in: p, from: from, to: to) }
        var at = start
        var nl = newline
        var newlines = 0
        while true {
            // Outside quotes: the record ends at the next newline unless a quote comes first.
            if nl < at { nl = find(lf, at, n) }
            let open = find(quote, at, nl)
            if open == nl { return (nl, false, newlines) }
            // Inside quotes: newlines are part of the field, up to the closing quote.
            let close = find(quote, open + 1, n)
            var k = find(lf, open + 1, close)
            while k < close {
                newlines += 1
                k = find(lf, k + 1, close)
            }
            if close == n { return (n, true, newlines) }
            at = close + 1
        }
    }

    /// Splits a line with quotes: quoted fields are unescaped ("" -> ") in place, each
    /// stretch between quotes moved at once.
    private static func splitQuoted(_ p: UnsafeMutablePointer<UInt8>, _ start: Int, _ end: Int, _ delimiter: UInt8,
                                    into b: UnsafeMutablePointer<Int>) -> (Int, String?) {
        var fields = 0
        var i = start
        while true {
            if i < end, p[i] == Self.quote {
                // Quoted field: the content ends before the closing quote.
                i += 1
                let fieldStart = i
                var write = i
                while i < end {
                    let q = index(of: Self.quote, in: p, from: i, to: end)
                    if write != i { memmove(p + write, p + i, q - i) }
                    write += q - i
                    i = q
                    guard i + 1 < end, p[i + 1] == Self.quote else { break }
                    p[write] = Self.quote  // a doubled quote is one quote
                    write += 1
                    i += 2
                }
                i += 1  // the closing quote
                b[2 * fields] = fieldStart
                b[2 * fields + 1] = write
                fields += 1
                if i < end, p[i] != delimiter { return (fields, "unexpected character after a closing quote") }
            } else {
                let fieldStart = i
                while i < end, p[i] != delimiter {
                    if p[i] == Self.quote { return (fields, "a quote inside an unquoted field") }
                    i += 1
                }
                b[2 * fields] = fieldStart
                b[2 * fields + 1] = i
                fields += 1
            }
            if i >= end { return (fields, nil) }
            i += 1  // the delimiter
            if i == end {  // trailing empty field
                b[2 * fields] = i
                b[2 * fields + 1] = i
                return (fields + 1, nil)
            }
        }
    }
}

/// The parser's field boundaries: one buffer reused for every record, grown to the widest.
final class FieldBounds {
    private var pointer = UnsafeMutablePointer<Int>.allocate(capacity: 64)
    private var capacity = 64

    /// Room for `fields` fields' start and end; the pointer is valid until the next call.
    func reserve(fields: Int) -> UnsafeMutablePointer<Int> {
        if 2 * fields > capacity {
            pointer.deallocate()
            capacity = max(2 * fields, 2 * capacity)
            pointer = .allocate(capacity: capacity)
        }
        return pointer
    }

    deinit { pointer.deallocate() }
}
