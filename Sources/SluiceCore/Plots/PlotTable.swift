/// The rows of a plot's data file, as text: CSV or TSV with a header line, or (parsed by the
/// YAML adapter) JSON/YAML: a list of mappings, or a mapping holding one such list (DVC's
/// `{"roc": [{"fpr": 0, "tpr": 0}, ...]}`). Each row keeps its line for located messages.
public struct PlotTable: Sendable {
    public var columns: [String]
    public var rows: [[String]]
    /// Line of each row in the file.
    public var lines: [Int]

    /// The most rows a plot's data holds, and the most columns.
    public static let rowLimit = 50_000
    public static let columnLimit = 200

    public struct Problem: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// CSV (`,`) or TSV (`\t`) with a header line (RFC 4180 quoting, through `CSVParser`).
    public static func delimited(_ bytes: [UInt8], file: String, separator: UInt8) throws(Problem) -> PlotTable {
        var table = PlotTable(columns: [], rows: [], lines: [])
        var problem: Problem?
        var parser = CSVParser(delimiter: separator)
        func take(_ record: borrowing CSVParser.Record, _ line: Int) {
            guard problem == nil else { return }
            if record.count == 1, record[0].isEmpty { return }  // a blank line
            if table.columns.isEmpty {
                guard record.count <= columnLimit else { problem = Problem(description: "\(file):\(line): \(record.count) columns; at most \(columnLimit)"); return }
                table.columns = record.strings().map { $0.trimmingCharacters(in: .whitespaces) }
                return
            }
            guard record.count == table.columns.count else {
                problem = Problem(description: "\(file):\(line): \(record.count) fields, but the header names \(table.columns.count) columns")
                return
            }
            guard table.rows.count < rowLimit else {
                problem = Problem(description: "\(file): more than \(rowLimit) rows; Sluice draws at most \(rowLimit) (write a sample, e.g. every 10th threshold of a ROC curve)")
                return
            }
            table.rows.append(record.strings())
            table.lines.append(line)
        }
        func fail(_ error: CSVParser.SyntaxError) { if problem == nil { problem = Problem(description: "\(file):\(error.line): \(error.message)") } }
        bytes.withUnsafeBytes { parser.feed($0, take, onError: fail) }
        parser.finish(take, onError: fail)
        if let problem { throw problem }
        guard !table.columns.isEmpty else { throw Problem(description: "\(file) is empty: a header line and rows were expected") }
        return table
    }

    /// A parsed JSON or YAML document.
    public static func document(_ node: Node, file: String) throws(Problem) -> PlotTable {
        var list = node.sequence
        if list == nil, let pairs = node.mapping, pairs.count == 1 { list = pairs[0].value.sequence }
        guard let items = list else {
            throw Problem(description: "\(node.location): expected a list of rows (mappings of column to value), or a mapping holding one such list")
        }
        guard items.count <= rowLimit else {
            throw Problem(description: "\(file): \(items.count) rows; Sluice draws at most \(rowLimit) (write a sample)")
        }
        var table = PlotTable(columns: [], rows: [], lines: [])
        for item in items {
            guard let pairs = item.mapping else { throw Problem(description: "\(item.location): a row must be a mapping of column to value, found \(item.kindName)") }
            if table.columns.isEmpty {
                table.columns = pairs.compactMap(\.key.string)
                guard table.columns.count <= columnLimit else { throw Problem(description: "\(item.location): \(table.columns.count) columns; at most \(columnLimit)") }
            }
            var row = Array(repeating: "", count: table.columns.count)
            for pair in pairs {
                guard let key = pair.key.string, let index = table.columns.firstIndex(of: key) else { continue }
                guard pair.value.isScalar, let text = pair.value.string else {
                    throw Problem(description: "\(pair.value.location): '\(key)' must be a number or a label, found \(pair.value.kindName)")
                }
                row[index] = text
            }
            table.rows.append(row)
            table.lines.append(item.location.line)
        }
        return table
    }
}
