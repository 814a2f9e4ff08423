/// What `sluice init` learns about one column of a data file to write a first schema for it:
/// which type every value has, whether values are missing, the range, the categories when they
/// are few, and whether every value is distinct. Values arrive as text (nil: missing).
public struct ColumnProfile: Sendable, Hashable {
    public let name: String
    public private(set) var values = 0
    public private(set) var nulls = 0
    private var allInteger = true
    private var allNumber = true
    private var allBoolean = true
    public private(set) var minimum = Double.infinity
    public private(set) var maximum = -Double.infinity
    /// The distinct values seen, while there are at most `Self.distinctLimit`; nil after.
    private var distinct: Set<String>? = []
    private var repeated = false

    /// Up to this many distinct values are remembered (for categories and uniqueness).
    public static let distinctLimit = 100_000
    /// At most this many categories become `allowed`.
    public static let categoryLimit = 20

    public init(name: String) { self.name = name }

    public mutating func add(_ text: String?) {
        guard let text else { nulls += 1; return }
        values += 1
        if allBoolean, FieldParsing.boolean(text) == nil || text == "0" || text == "1" { allBoolean = false }
        if allNumber {
            var bytes = text
            let (isInteger, value) = bytes.withUTF8 { (FieldParsing.isInteger($0), FieldParsing.double($0)) }
            if let x = value, x.isFinite {
                if !isInteger { allInteger = false }
                minimum = Swift.min(minimum, x)
                maximum = Swift.max(maximum, x)
            } else {
                allNumber = false
                allInteger = false
            }
        }
        if var seen = distinct {
            distinct = nil  // no copy while inserting
            if !seen.insert(text).inserted { repeated = true }
            // Measured numbers with more values than a category list are neither categories nor
            // an identifier, whatever follows (a later text value makes them free text): stop
            // remembering them (a float column would otherwise fill the set to its limit).
            let measured = allNumber && !allInteger && seen.count > Self.categoryLimit
            distinct = seen.count > Self.distinctLimit || measured ? nil : seen
        }
    }

    /// The type every value has (strings when nothing is known).
    public var type: DataSchema.ColumnType {
        guard values > 0 else { return .string }
        if allBoolean { return .boolean }
        if allInteger { return .integer }
        if allNumber { return .number }
        return .string
    }

    /// The values, sorted, when a string column has few of them, each seen more than once on
    /// average (a label, a region); nil for free text.
    public var categories: [String]? {
        guard type == .string, let seen = distinct, !seen.isEmpty, seen.count <= Self.categoryLimit, values >= 2 * seen.count else { return nil }
        return seen.sorted()
    }

    /// Every value distinct, no value missing, in an integer or string column that is not a
    /// category: an identifier. (A measured number is distinct by chance, not by rule.)
    public var unique: Bool {
        guard values >= 2, nulls == 0, !repeated, distinct != nil else { return false }
        return type == .integer || (type == .string && categories == nil)
    }
}
