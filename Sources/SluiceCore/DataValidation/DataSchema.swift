/// What a dataset must look like, read from the schema file that a `validate-data`
/// stage names (`with: { schema: schemas/iris.yaml }`). Built by `DataSchemaDecoder`.
public struct DataSchema: Hashable, Sendable {
    public enum Format: String, Hashable, Sendable, CaseIterable {
        case csv, jsonl
    }

    public enum ColumnType: String, Hashable, Sendable, CaseIterable {
        case integer, number, string, boolean

        public var isNumeric: Bool { self == .integer || self == .number }
    }

    public struct Column: Hashable, Sendable {
        public var name: String
        public var type: ColumnType
        public var nullable: Bool = false
        public var min: Double?
        public var max: Double?
        public var allowed: [String]?
        /// A regular expression every non-null value must match in full.
        public var pattern: String?
        public var unique: Bool = false
        /// Whether drift is measured for this column (default: yes, unless unique).
        public var drift: Bool = true
        public var location: SourceLocation

        public init(name: String, type: ColumnType, location: SourceLocation) {
            self.name = name
            self.type = type
            self.location = location
        }
    }

    /// Warn and fail thresholds of one drift test. For PSI and KS a larger statistic
    /// is worse; for chi-squared the thresholds apply to the p-value (smaller is worse).
    public struct Thresholds: Hashable, Sendable, Codable {
        public var warn: Double
        public var fail: Double
        public init(warn: Double, fail: Double) {
            self.warn = warn
            self.fail = fail
        }
    }

    public struct DriftSettings: Hashable, Sendable {
        public var psi = Thresholds(warn: 0.1, fail: 0.25)
        public var ks = Thresholds(warn: 0.1, fail: 0.2)
        public var chiSquaredPValue = Thresholds(warn: 0.05, fail: 0.01)
        /// Number of PSI bins for numeric columns, at the reference's quantiles.
        public var bins = 10
        /// Values kept per numeric column for exact KS statistics; beyond this the
        /// column switches to a fixed grid of `gridBins` bins (said in the report).
        public var exactLimit = 200_000
        public init() {}
    }

    public var file: String
    public var format: Format?
    public var delimiter: UInt8 = UInt8(ascii: ",")
    /// Field texts read as null (besides a missing JSON key).
    public var nullValues: [String] = ["", "NA", "null"]
    public var minRows: Int?
    public var maxRows: Int?
    public var columns: [Column]
    public var drift = DriftSettings()

    public init(file: String, columns: [Column]) {
        self.file = file
        self.columns = columns
    }
}
