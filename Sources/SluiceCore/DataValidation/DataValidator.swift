/// Checks records against a `DataSchema` as they stream by, and profiles each column
/// for drift. Feed it a header, then records (each field as bytes, nil for a missing
/// value), then call `finish`. Memory does not grow with the number of rows, except
/// for `unique` columns (which must remember the values seen).
public struct DataValidator {
    public static let maxExamples = 5

    public let schema: DataSchema
    public let dataFile: String
    /// Only profile for drift (used for the reference data): no checks are reported.
    public let profileOnly: Bool

    /// Schema column -> position in the record (nil: missing from the data).
    private var positions: [Int?] = []
    private var headerCount = 0
    private var headerSeen = false
    public private(set) var rows = 0

    private var failures: [String: (count: Int, examples: [ValidationReport.Example])] = [:]
    private var nullTexts: [[UInt8]]
    private var allowed: [Set<String>?]
    private var allowedBytes: [[[UInt8]]?]
    private var patterns: [Regex<AnyRegexOutput>?]
    private var seen: [Set<String>?]
    private var fileChecks: [ValidationReport.Check] = []

    public private(set) var numeric: [NumericSample?]
    public private(set) var categorical: [CategoryCounts?]

    /// - Parameter referenceEdges: per column, the grid edges of the reference sample,
    ///   so that large current samples share the reference's grid.
    public init(schema: DataSchema, dataFile: String, profileOnly: Bool = false, referenceEdges: [String: [Double]] = [:]) {
        self.schema = schema
        self.dataFile = dataFile
        self.profileOnly = profileOnly
        nullTexts = schema.nullValues.map { Array($0.utf8) }
        allowed = schema.columns.map { $0.allowed.map(Set.init) }
        allowedBytes = schema.columns.map { $0.allowed.map { $0.map { Array($0.utf8) } } }
        patterns = schema.columns.map { c in c.pattern.flatMap { try? Regex($0) } }
        seen = schema.columns.map { $0.unique ? Set<String>() : nil }
        numeric = schema.columns.map { c in
            c.type.isNumeric && c.drift ? NumericSample(limit: schema.drift.exactLimit, preferredEdges: referenceEdges[c.name]) : nil
        }
        categorical = schema.columns.map { c in !c.type.isNumeric && c.drift ? CategoryCounts() : nil }
    }

    // MARK: feeding

    /// The data's column names. Columns the schema declares but the data lacks are
    /// reported; extra data columns are noted and ignored.
    public mutating func header(_ names: [String], line: Int) {
        headerSeen = true
        headerCount = names.count
        var index: [String: Int] = [:]
        for (i, n) in names.enumerated() where index[n] == nil { index[n] = i }
        positions = schema.columns.map { index[$0.name] }
        for (column, position) in zip(schema.columns, positions) where position == nil {
            let hint = Suggestion.hint(for: column.name, in: names).map { "; \($0)" } ?? ""
            fileChecks.append(.init(column: column.name, check: "present", verdict: .fail, failures: 1,
                                    message: "column '\(column.name)' declared at \(column.location) is not in \(dataFile) (columns: \(names.joined(separator: ", ")))\(hint)",
                                    examples: []))
        }
        let declared = Set(schema.columns.map(\.name))
        let extra = names.filter { !declared.contains($0) }
        if !extra.isEmpty, !profileOnly {
            fileChecks.append(.init(column: nil, check: "extra-columns", verdict: .pass, failures: 0,
                                    message: "not in the schema, not checked: \(extra.joined(separator: ", "))", examples: []))
        }
    }

    /// A CSV record.
    public mutating func record(_ record: borrowing CSVParser.Record, line: Int) {
        rows += 1
        if record.count != headerCount, !profileOnly {
            fail(nil, "field-count", line: line, value: "\(record.count) fields, header has \(headerCount)")
            if record.count < headerCount { return }
        }
        for c in 0..<positions.count {
            guard let p = positions[c], p < record.count else { continue }
            field(c, record[p], line: line)
        }
    }

    /// A record whose fields are already aligned with the schema's columns (JSON lines).
    public mutating func record(aligned fields: [String?], line: Int) {
        rows += 1
        for c in 0..<min(fields.count, schema.columns.count) {
            if var text = fields[c] {
                text.withUTF8 { field(c, $0, line: line) }
            } else {
                field(c, nil, line: line)
            }
        }
    }

    /// A record that could not be read (bad CSV quoting, a line that is not a JSON object).
    public mutating func malformed(line: Int, message: String) {
        fail(nil, "syntax", line: line, value: message)
    }

    /// Marks the header as given by the schema itself (JSON lines have no header).
    public mutating func useSchemaColumns() {
        headerSeen = true
        positions = schema.columns.indices.map { $0 }
        headerCount = schema.columns.count
    }

    private func isNull(_ b: UnsafeBufferPointer<UInt8>) -> Bool {
        for t in nullTexts where FieldParsing.equals(b, t) { return true }
        return false
    }

    private mutating func field(_ c: Int, _ value: UnsafeBufferPointer<UInt8>?, line: Int) {
        let column = schema.columns[c]
        guard let b = value, !isNull(b) else {
            if !column.nullable, !profileOnly { fail(column.name, "nullable", line: line, value: nil) }
            return
        }
        switch column.type {
        case .integer, .number:
            guard let x = FieldParsing.double(b), column.type == .number || FieldParsing.isInteger(b) else {
                if !profileOnly { fail(column.name, "type", line: line, value: String(decoding: b, as: UTF8.self)) }
                return
            }
            if x.isNaN {
                if !column.nullable, !profileOnly { fail(column.name, "nullable", line: line, value: "NaN") }
                return
            }
            numeric[c]?.add(x)
            guard !profileOnly else { return }
            if let lo = column.min, x < lo { fail(column.name, "min", line: line, value: String(decoding: b, as: UTF8.self)) }
            if let hi = column.max, x > hi { fail(column.name, "max", line: line, value: String(decoding: b, as: UTF8.self)) }
        case .boolean:
            if FieldParsing.boolean(String(decoding: b, as: UTF8.self)) == nil, !profileOnly {
                fail(column.name, "type", line: line, value: String(decoding: b, as: UTF8.self))
                return
            }
            categorical[c]?.add(b)
        case .string:
            categorical[c]?.add(b)
        }
        guard !profileOnly else { return }
        if let allowedBytes = allowedBytes[c], !allowedBytes.contains(where: { FieldParsing.equals(b, $0) }) {
            fail(column.name, "allowed", line: line, value: String(decoding: b, as: UTF8.self))
        }
        if let pattern = patterns[c] {
            let text = String(decoding: b, as: UTF8.self)
            if (try? pattern.wholeMatch(in: text)) == nil { fail(column.name, "pattern", line: line, value: text) }
        }
        if seen[c] != nil {
            let text = String(decoding: b, as: UTF8.self)
            if seen[c]!.insert(text).inserted == false { fail(column.name, "unique", line: line, value: text) }
        }
    }

    private mutating func fail(_ column: String?, _ check: String, line: Int, value: String?) {
        let key = (column ?? "") + "\u{0}" + check
        var entry = failures[key] ?? (0, [])
        entry.count += 1
        if entry.examples.count < Self.maxExamples { entry.examples.append(.init(line: line, value: value)) }
        failures[key] = entry
    }

    // MARK: results

    /// Sorts the numeric samples; call once after the last record.
    public mutating func finishProfiles() {
        for i in numeric.indices { numeric[i]?.finish() }
    }

    /// Every check, passing or not, in schema order then file-level checks.
    public func checks() -> [ValidationReport.Check] {
        var result = fileChecks
        if !headerSeen {
            result.append(.init(column: nil, check: "header", verdict: .fail, failures: 1, message: "\(dataFile) is empty: no header line", examples: []))
        }
        func add(_ column: String?, _ check: String, _ describe: String) {
            let key = (column ?? "") + "\u{0}" + check
            let entry = failures[key]
            let count = entry?.count ?? 0
            result.append(.init(column: column, check: check, verdict: count == 0 ? .pass : .fail, failures: count,
                                message: count == 0 ? describe : "\(count) row\(count == 1 ? "" : "s"): \(describe) broken; first at line \(entry!.examples[0].line)",
                                examples: entry?.examples ?? []))
        }
        add(nil, "syntax", "every record is well-formed CSV/JSON")
        if failures[("" + "\u{0}field-count")] != nil { add(nil, "field-count", "every record has as many fields as the header") }
        for (c, column) in schema.columns.enumerated() where positions.indices.contains(c) && positions[c] != nil {
            add(column.name, "type", "values are \(column.type.rawValue)")
            if !column.nullable { add(column.name, "nullable", "no missing values") }
            if let lo = column.min { add(column.name, "min", "values >= \(lo)") }
            if let hi = column.max { add(column.name, "max", "values <= \(hi)") }
            if let a = column.allowed { add(column.name, "allowed", "values in [\(a.joined(separator: ", "))]") }
            if let p = column.pattern { add(column.name, "pattern", "values match /\(p)/") }
            if column.unique { add(column.name, "unique", "values are unique") }
        }
        if let lo = schema.minRows, rows < lo {
            result.append(.init(column: nil, check: "rows", verdict: .fail, failures: 1, message: "\(rows) rows, at least \(lo) required", examples: []))
        } else if let hi = schema.maxRows, rows > hi {
            result.append(.init(column: nil, check: "rows", verdict: .fail, failures: 1, message: "\(rows) rows, at most \(hi) allowed", examples: []))
        } else if schema.minRows != nil || schema.maxRows != nil {
            result.append(.init(column: nil, check: "rows", verdict: .pass, failures: 0, message: "\(rows) rows", examples: []))
        }
        return result
    }
}
