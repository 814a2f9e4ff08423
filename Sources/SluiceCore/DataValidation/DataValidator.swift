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
    private var fileChecks: [ValidationReport.Check] = []

    /// Per-column rules as plain values, one record per column, so the per-field path reads one
    /// place and touches no strings.
    private struct Rule {
        var kind: DataSchema.ColumnType
        var nullable: Bool
        var tracksNumeric: Bool
        /// Text measured for drift: its categories are counted until there are too many.
        var countsCategories: Bool
        var checksAllowed: Bool
        /// A pattern or uniqueness (which need the value as a String).
        var checksText: Bool
        var lower: Double
        var upper: Double
    }
    private let rules: [Rule]
    private let allowed: [Set<String>]
    private var patterns: [Regex<AnyRegexOutput>?]
    private let hasPattern: [Bool]
    /// The values seen so far of each `unique` column (nil for the others).
    private let seen: [DistinctValues?]
    private let nulls: NullTexts

    private var numericSamples: [NumericSample]
    /// The last rows' numeric values, profiled a batch at a time (see `NumericBatch`).
    private let batch: NumericBatch
    private var categories: [CategoryCounts]
    /// Per column, per category index: whether the value is allowed (filled as categories appear).
    private var allowedByCategory: [[Bool]]

    /// The numeric sample of column `c`, when it is measured for drift.
    public func numericSample(_ c: Int) -> NumericSample? { rules[c].tracksNumeric ? numericSamples[c] : nil }
    /// The category counts of column `c`, when it is measured for drift.
    public func categoryCounts(_ c: Int) -> CategoryCounts? {
        !rules[c].kind.isNumeric && schema.columns[c].drift && !categories[c].overflowed ? categories[c] : nil
    }

    public init(schema: DataSchema, dataFile: String, profileOnly: Bool = false) {
        self.schema = schema
        self.dataFile = dataFile
        self.profileOnly = profileOnly
        let columns = schema.columns
        rules = columns.map {
            Rule(kind: $0.type, nullable: $0.nullable, tracksNumeric: $0.type.isNumeric && $0.drift,
                 countsCategories: !$0.type.isNumeric && $0.drift, checksAllowed: $0.allowed != nil,
                 checksText: $0.pattern != nil || $0.unique, lower: $0.min ?? -.infinity, upper: $0.max ?? .infinity)
        }
        allowed = columns.map { Set($0.allowed ?? []) }
        patterns = columns.map { c in c.pattern.flatMap { try? Regex($0) } }
        hasPattern = columns.map { $0.pattern != nil }
        seen = columns.map { $0.unique ? DistinctValues() : nil }
        nulls = NullTexts(schema.nullValues)
        numericSamples = columns.map { _ in NumericSample(limit: schema.drift.exactLimit) }
        batch = NumericBatch(columns: columns.count)
        categories = columns.map { _ in CategoryCounts() }
        allowedByCategory = columns.map { _ in [] }
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
        endOfRow()
    }

    /// A record whose fields are already aligned with the schema's columns (a JSON line).
    public mutating func record(aligned fields: borrowing JSONLineScanner, line: Int) {
        rows += 1
        for c in 0..<min(fields.columnCount, schema.columns.count) {
            field(c, fields.value(c), line: line)
        }
        endOfRow()
    }

    @inline(__always)
    private mutating func endOfRow() {
        batch.rows += 1
        if batch.rows == NumericBatch.capacity { profileBatch() }
    }

    private mutating func profileBatch() {
        for c in numericSamples.indices where rules[c].tracksNumeric { numericSamples[c].add(contentsOf: batch.column(c)) }
        batch.clear()
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

    @inline(__always)
    private mutating func field(_ c: Int, _ value: UnsafeBufferPointer<UInt8>?, line: Int) {
        let rule = rules[c]
        guard let b = value, !(nulls.mayMatch(b) && nulls.matches(b)) else {
            if !rule.nullable, !profileOnly { fail(c, "nullable", line: line, value: nil) }
            return
        }
        switch rule.kind {
        case .integer, .number:
            guard let x = rule.kind == .number ? FieldParsing.double(b) : FieldParsing.integer(b) else {
                if !profileOnly { fail(c, "type", line: line, value: String(decoding: b, as: UTF8.self)) }
                return
            }
            if x.isNaN {
                if !rule.nullable, !profileOnly { fail(c, "nullable", line: line, value: "NaN") }
                return
            }
            if rule.tracksNumeric { batch.put(x, column: c) }
            if x < rule.lower, !profileOnly { fail(c, "min", line: line, value: String(decoding: b, as: UTF8.self)) }
            if x > rule.upper, !profileOnly { fail(c, "max", line: line, value: String(decoding: b, as: UTF8.self)) }
        case .boolean, .string:
            if rule.kind == .boolean, FieldParsing.boolean(String(decoding: b, as: UTF8.self)) == nil {
                if !profileOnly { fail(c, "type", line: line, value: String(decoding: b, as: UTF8.self)) }
                return
            }
            // Free text (no drift, or past the category limit) is not counted: nothing reads it.
            if rule.checksAllowed || (rule.countsCategories && !categories[c].overflowed) {
                let index = categories[c].add(b)
                if rule.checksAllowed, !profileOnly, !isAllowed(c, index, b) {
                    fail(c, "allowed", line: line, value: String(decoding: b, as: UTF8.self))
                }
            }
        }
        if rule.checksText, !profileOnly { textChecks(c, b, line: line) }
    }

    /// Whether category `index` (-1: one past the count limit, given as bytes) is allowed.
    private mutating func isAllowed(_ c: Int, _ index: Int, _ b: UnsafeBufferPointer<UInt8>) -> Bool {
        if index < 0 { return allowed[c].contains(String(decoding: b, as: UTF8.self)) }
        while allowedByCategory[c].count <= index {
            allowedByCategory[c].append(allowed[c].contains(categories[c].names[allowedByCategory[c].count]))
        }
        return allowedByCategory[c][index]
    }

    /// Pattern (on the value as a String) and uniqueness (on its bytes). Kept out of `field`: the
    /// regex's generic output type made every call of `field` set up room for it.
    @inline(never)
    private mutating func textChecks(_ c: Int, _ b: UnsafeBufferPointer<UInt8>, line: Int) {
        if hasPattern[c] {
            let text = String(decoding: b, as: UTF8.self)
            if !matchesPattern(c, text) { fail(c, "pattern", line: line, value: text) }
        }
        if let seen = seen[c], !seen.insert(b) { fail(c, "unique", line: line, value: String(decoding: b, as: UTF8.self)) }
    }

    private func matchesPattern(_ c: Int, _ text: String) -> Bool {
        guard let pattern = patterns[c] else { return false }
        do {
            return try pattern.wholeMatch(in: text) != nil
        } catch {
            return false  // a pattern that fails while matching does not pass the value
        }
    }

    private mutating func fail(_ c: Int, _ check: String, line: Int, value: String?) {
        fail(schema.columns[c].name, check, line: line, value: value)
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
        profileBatch()
        for i in numericSamples.indices where rules[i].tracksNumeric { numericSamples[i].finish() }
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

/// Numeric values of the rows since the last batch, column by column. A column's profile
/// then takes its values together, with its own bins in cache, rather than ten columns
/// taking turns value by value. A class so that the per-field path writes plain memory;
/// a validator is one pass over one file, and copies of it share the batch.
final class NumericBatch {
    static let capacity = 1024
    let values: UnsafeMutablePointer<Double>
    let counts: UnsafeMutablePointer<Int>
    let columns: Int
    /// Rows since the batch began; each puts at most one value per column.
    var rows = 0

    init(columns: Int) {
        self.columns = columns
        values = .allocate(capacity: max(columns, 1) * Self.capacity)
        counts = .allocate(capacity: max(columns, 1))
        counts.initialize(repeating: 0, count: max(columns, 1))
    }

    deinit {
        values.deallocate()
        counts.deallocate()
    }

    @inline(__always)
    func put(_ x: Double, column c: Int) {
        values[c &* Self.capacity &+ counts[c]] = x
        counts[c] &+= 1
    }

    func column(_ c: Int) -> UnsafeBufferPointer<Double> {
        UnsafeBufferPointer(start: values + c * Self.capacity, count: counts[c])
    }

    func clear() {
        rows = 0
        counts.update(repeating: 0, count: max(columns, 1))
    }
}

/// The texts read as null. Most fields are ruled out by their length and first byte alone (a
/// bit per length, a bit per byte: a number starts with a digit or a sign, and "NA" and "null"
/// do not); a text of up to eight bytes is compared as one word. (A separate small type:
/// calling a method of the large validator from its mutating per-field path made Swift copy
/// the whole validator for each field.)
struct NullTexts {
    /// Bit n set: some null text has n bytes (n < 64; longer ones are checked one by one).
    private let lengths: UInt64
    /// Bit c set (in the low half for c < 128, else the high): some null text starts with byte c.
    private let firstLow: UInt128
    private let firstHigh: UInt128
    /// Null texts of up to eight bytes, packed into a word each (with their length).
    private let short: [(length: Int, word: UInt64)]
    private let long: [[UInt8]]

    init(_ texts: [String]) {
        var lengths: UInt64 = 0
        var firstLow: UInt128 = 0, firstHigh: UInt128 = 0
        var short: [(length: Int, word: UInt64)] = [], long: [[UInt8]] = []
        for text in texts {
            let bytes = Array(text.utf8)
            if bytes.count < 64 { lengths |= 1 << UInt64(bytes.count) }
            if let c = bytes.first {
                if c < 128 { firstLow |= 1 << UInt128(c) } else { firstHigh |= 1 << UInt128(c - 128) }
            }
            if bytes.count <= 8 {
                short.append((bytes.count, bytes.withUnsafeBufferPointer { $0.baseAddress.map { ByteKey.packed($0, bytes.count) } ?? 0 }))
            } else {
                long.append(bytes)
            }
        }
        self.lengths = lengths
        self.firstLow = firstLow
        self.firstHigh = firstHigh
        self.short = short
        self.long = long
    }

    /// Whether some null text has this length and first byte (inlined into the per-field path:
    /// most fields stop here).
    @inline(__always)
    func mayMatch(_ b: UnsafeBufferPointer<UInt8>) -> Bool {
        let n = b.count
        guard n < 64 else { return !long.isEmpty }
        guard lengths >> UInt64(n) & 1 != 0 else { return false }
        guard n > 0, let p = b.baseAddress else { return true }
        let c = p[0]
        return (c < 128 ? firstLow >> UInt128(c) : firstHigh >> UInt128(c & 127)) & 1 != 0
    }

    @inline(__always)
    func matches(_ b: UnsafeBufferPointer<UInt8>) -> Bool {
        guard b.count <= 8 else { return long.contains { $0.count == b.count && $0.elementsEqual(b) } }
        let word = b.baseAddress.map { ByteKey.packed($0, b.count) } ?? 0
        for null in short where null.length == b.count && null.word == word { return true }
        return false
    }
}
