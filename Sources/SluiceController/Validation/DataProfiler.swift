import FoundationEssentials
import SluiceCore
#if canImport(Glibc)
import Glibc
#endif

/// Profiles every column of a CSV or JSON-lines file (`sluice init`'s schema inference),
/// streaming it in chunks as `DataFileReader` does. Missing values are the default schema's
/// (`""`, `NA`, `null`); a JSON-lines file's columns are the keys of its objects in the order
/// they first appear, a key an object lacks being a missing value.
enum DataProfiler {
    /// Rows past this many are not read (the profile of a sample this large is the file's).
    static let rowLimit = 1_000_000

    static func profile(path: String, jsonLines: Bool) throws -> ([ColumnProfile], rows: Int) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw LoadError(message: "cannot read \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        return jsonLines ? try jsonLinesProfile(fd, path) : try csvProfile(fd, path)
    }

    private static let nulls: Set<String> = ["", "NA", "null"]

    private static func csvProfile(_ fd: Int32, _ name: String) throws -> ([ColumnProfile], rows: Int) {
        var parser = CSVParser()
        var columns: [ColumnProfile] = []
        var rows = 0
        var problem: CSVParser.SyntaxError?
        func onRecord(_ record: borrowing CSVParser.Record, _ line: Int) {
            if columns.isEmpty {
                columns = record.strings().map(ColumnProfile.init(name:))
                return
            }
            guard rows < rowLimit else { return }
            rows += 1
            for c in 0..<columns.count {
                let text = c < record.count ? record.string(c) : nil
                columns[c].add(text.flatMap { nulls.contains($0) ? nil : $0 })
            }
        }
        func onError(_ e: CSVParser.SyntaxError) { if problem == nil { problem = e } }
        try DataFileReader.chunks(fd, name) { parser.feed($0, onRecord, onError: onError) }
        parser.finish(onRecord, onError: onError)
        if let problem { throw LoadError(message: "\(name):\(problem.line): \(problem.message)") }
        return (columns, rows)
    }

    private static func jsonLinesProfile(_ fd: Int32, _ name: String) throws -> ([ColumnProfile], rows: Int) {
        var objects: [[String: String?]] = []
        var order: [String] = []
        var known: Set<String> = []
        var line = 0
        var problem: String?
        let decoder = JSONDecoder()
        func handle(_ bytes: UnsafeMutableBufferPointer<UInt8>) {
            line += 1
            guard objects.count < rowLimit, !bytes.allSatisfy({ $0 == 32 || $0 == 9 || $0 == 13 }) else { return }
            do {
                let object = try decoder.decode([String: JSONScalar].self, from: Data(buffer: bytes))
                for key in object.keys.sorted() where known.insert(key).inserted { order.append(key) }
                objects.append(object.mapValues(\.text))
            } catch {
                if problem == nil { problem = "\(name):\(line): not a JSON object of scalar values" }
            }
        }
        try DataFileReader.lines(fd, name, handle)
        if let problem { throw LoadError(message: problem) }
        var columns = order.map(ColumnProfile.init(name:))
        for object in objects {
            for c in columns.indices { columns[c].add(object[columns[c].name] ?? nil) }
        }
        return (columns, objects.count)
    }
}
