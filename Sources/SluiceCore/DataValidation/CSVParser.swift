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
        var starts: [Int] = []
        var ends: [Int] = []
        public var count: Int { starts.count }

        public subscript(_ i: Int) -> UnsafeBufferPointer<UInt8> {
            UnsafeBufferPointer(start: base + starts[i], count: ends[i] - starts[i])
        }

        public func string(_ i: Int) -> String { String(decoding: self[i], as: UTF8.self) }
    }

    public struct SyntaxError: Error, Hashable, Sendable {
        public var line: Int
        public var message: String
    }

    public let delimiter: UInt8
    private var buffer: [UInt8] = []
    /// Physical line (1-based) at the start of the unconsumed part of `buffer`.
    private var line = 1
    private var starts: [Int] = []
    private var ends: [Int] = []

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
        var consumed = 0
        var line = self.line
        var starts = self.starts
        var ends = self.ends
        buffer.withUnsafeMutableBufferPointer { whole in
            guard let p = whole.baseAddress else { return }
            let n = whole.count
            var recordStart = 0
            while recordStart < n {
                // Find the record's end first (a newline outside quotes), so a record cut
                // by the chunk boundary is left untouched until its bytes arrive.
                var limit = recordStart
                var inQuotes = false
                var newlines = 0
                // Fast path (memchr, vectorised by libc): the next newline, with no quote before it.
                let nl = memchr(p + recordStart, Int32(Self.lf), n - recordStart).map { UnsafeMutablePointer<UInt8>($0.assumingMemoryBound(to: UInt8.self)) - p } ?? n
                let hasQuote = memchr(p + recordStart, Int32(Self.quote), nl - recordStart) != nil
                if !hasQuote {
                    limit = nl
                } else {
                    while limit < n {
                        let b = p[limit]
                        if b == Self.quote { inQuotes.toggle() } else if b == Self.lf {
                            if !inQuotes { break }
                            newlines += 1
                        }
                        limit += 1
                    }
                }
                if limit == n, !final { break }
                let next = limit < n ? limit + 1 : n
                var lineEnd = limit
                if lineEnd > recordStart, p[lineEnd - 1] == Self.cr, !inQuotes { lineEnd -= 1 }

                starts.removeAll(keepingCapacity: true)
                ends.removeAll(keepingCapacity: true)
                var problem: String? = inQuotes ? "unterminated quoted field" : nil
                var i = recordStart
                while problem == nil {
                    if i < lineEnd, p[i] == Self.quote {
                        // Quoted field: unescape "" in place; the content ends before the closing quote.
                        i += 1
                        let start = i
                        var write = i
                        while i < lineEnd {
                            if p[i] == Self.quote {
                                if i + 1 < lineEnd, p[i + 1] == Self.quote { i += 1 } else { break }
                            }
                            p[write] = p[i]
                            write += 1
                            i += 1
                        }
                        i += 1  // the closing quote
                        starts.append(start)
                        ends.append(write)
                        if i < lineEnd, p[i] != delimiter { problem = "unexpected character after a closing quote" }
                    } else {
                        let start = i
                        if hasQuote {
                            while i < lineEnd, p[i] != delimiter {
                                if p[i] == Self.quote { problem = "a quote inside an unquoted field" }
                                i += 1
                            }
                        } else {
                            i = memchr(p + i, Int32(delimiter), lineEnd - i).map { UnsafeMutablePointer<UInt8>($0.assumingMemoryBound(to: UInt8.self)) - p } ?? lineEnd
                        }
                        starts.append(start)
                        ends.append(i)
                    }
                    if i >= lineEnd { break }
                    i += 1  // the delimiter
                    if i == lineEnd { starts.append(i); ends.append(i); break }  // trailing empty field
                }
                if let problem {
                    onError(SyntaxError(line: line, message: problem))
                } else if lineEnd > recordStart {  // a blank line is not a record
                    var record = Record(base: p)
                    swap(&record.starts, &starts)
                    swap(&record.ends, &ends)
                    onRecord(record, line)
                    swap(&record.starts, &starts)
                    swap(&record.ends, &ends)
                }
                line += newlines + (limit < n ? 1 : 0)
                recordStart = next
                consumed = next
            }
        }
        self.line = line
        self.starts = starts
        self.ends = ends
        if consumed > 0 { buffer.removeFirst(consumed) }
    }
}
