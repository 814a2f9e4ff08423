import FoundationEssentials
public import SluiceCore
#if canImport(Glibc)
import Glibc
#endif

/// Streams a CSV or JSON-lines file into a `DataValidator` in fixed-size chunks, so
/// memory does not depend on the file's size.
public enum DataFileReader {
    public static let chunkSize = 4 << 20

    public struct ReadError: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    public static func format(of path: String, schema: DataSchema) -> DataSchema.Format {
        if let f = schema.format { return f }
        return path.hasSuffix(".jsonl") || path.hasSuffix(".ndjson") ? .jsonl : .csv
    }

    /// Reads `path` (shown as `displayName`) into `validator`.
    public static func read(_ path: String, displayName: String, into validator: inout DataValidator) throws(ReadError) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw ReadError(description: "cannot read data file '\(displayName)': \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        switch format(of: path, schema: validator.schema) {
        case .csv: try readCSV(fd, displayName, &validator)
        case .jsonl: try readJSONLines(fd, displayName, &validator)
        }
    }

    static func chunks(_ fd: Int32, _ name: String, _ body: (UnsafeRawBufferPointer) -> Void) throws(ReadError) {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkSize, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            let n = Glibc.read(fd, buffer.baseAddress, chunkSize)
            if n < 0 {
                if errno == EINTR { continue }
                throw ReadError(description: "reading '\(name)' failed: \(String(cString: strerror(errno)))")
            }
            if n == 0 { return }
            body(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
        }
    }

    private static func readCSV(_ fd: Int32, _ name: String, _ validator: inout DataValidator) throws(ReadError) {
        var parser = CSVParser(delimiter: validator.schema.delimiter)
        var sawHeader = false
        func onRecord(_ record: borrowing CSVParser.Record, _ line: Int) {
            if sawHeader {
                validator.record(record, line: line)
            } else {
                sawHeader = true
                validator.header(record.strings(), line: line)
            }
        }
        func onError(_ e: CSVParser.SyntaxError) { validator.malformed(line: e.line, message: e.message) }
        try chunks(fd, name) { parser.feed($0, onRecord, onError: onError) }
        parser.finish(onRecord, onError: onError)
    }

    /// One JSON object per line; values must be scalars (numbers, strings, booleans, null).
    private static func readJSONLines(_ fd: Int32, _ name: String, _ validator: inout DataValidator) throws(ReadError) {
        validator.useSchemaColumns()
        var scanner = JSONLineScanner(columns: validator.schema.columns.map(\.name))
        var line = 0
        try lines(fd, name) { bytes in
            line += 1
            if bytes.allSatisfy({ $0 == 32 || $0 == 9 || $0 == 13 }) { return }
            if let problem = scanner.scan(bytes) {
                validator.malformed(line: line, message: problem.message)
            } else {
                validator.record(aligned: scanner, line: line)
            }
        }
    }

    /// Each line of the file (without its newline), the last one also when it has none; the
    /// bytes may be changed in place and are valid only during the call.
    static func lines(_ fd: Int32, _ name: String, _ handle: (UnsafeMutableBufferPointer<UInt8>) -> Void) throws(ReadError) {
        var pending: [UInt8] = []
        try chunks(fd, name) { chunk in
            pending.append(contentsOf: chunk)
            let consumed = pending.withUnsafeMutableBufferPointer { all -> Int in
                guard let base = all.baseAddress else { return 0 }
                var start = 0
                while start < all.count,
                      let nl = memchr(base + start, 10, all.count - start).map({ UnsafeMutablePointer<UInt8>($0.assumingMemoryBound(to: UInt8.self)) - base }) {
                    handle(UnsafeMutableBufferPointer(rebasing: all[start..<nl]))
                    start = nl + 1
                }
                return start
            }
            pending.removeFirst(consumed)
        }
        if !pending.isEmpty { pending.withUnsafeMutableBufferPointer { handle($0) } }
    }
}

/// A JSON scalar as the text a CSV would hold; nil text means JSON null.
struct JSONScalar: Decodable {
    var text: String?

    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { text = nil }
        else if let b = try? c.decode(Bool.self) { text = b ? "true" : "false" }
        else if let i = try? c.decode(Int.self) { text = String(i) }
        else if let d = try? c.decode(Double.self) { text = String(d) }
        else { text = try c.decode(String.self) }
    }
}
