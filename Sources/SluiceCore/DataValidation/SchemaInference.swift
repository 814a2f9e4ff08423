/// A first `validate-data` schema written from what a data file holds (`sluice init`), in the
/// spirit of TFDV's `infer_schema`: every column with its type; `nullable` when values are
/// missing; numeric ranges widened by a tenth of their span on each side (never below zero for
/// a column with no negative value) so the next data version's normal variation passes;
/// `allowed` categories when a string column has few values; `unique` when an identifier
/// column holds it; a minimum row count of half the rows seen. It describes this file, not what
/// is valid: the comments say to review it.
public enum SchemaInference {
    /// The schema's YAML text.
    /// - Parameters:
    ///   - file: the data file's path as `sluice.yaml` names it (for the comment).
    ///   - rows: records profiled.
    public static func yaml(columns: [ColumnProfile], rows: Int, file: String) -> String {
        var out = """
        # Data schema for the built-in validate-data action, inferred by `sluice init` from
        # \(file) (\(rows) row\(rows == 1 ? "" : "s")). It describes that file: review the ranges and
        # categories, and say what valid data is (tighter bounds, a pattern, nullable columns).

        """
        out += "rows: { min: \(max(1, rows / 2)) }\n"
        out += "columns:\n"
        let width = columns.map { key($0.name).count }.max() ?? 0
        for c in columns {
            let name = key(c.name)
            var fields = ["type: \(c.type.rawValue)"]
            if c.nulls > 0 { fields.append("nullable: true") }
            if c.type.isNumeric, c.values > 0 {
                let (low, high) = widened(c.minimum, c.maximum, integer: c.type == .integer)
                fields.append("min: \(low)")
                fields.append("max: \(high)")
            }
            if let categories = c.categories { fields.append("allowed: [\(categories.map(scalar).joined(separator: ", "))]") }
            if c.unique { fields.append("unique: true") }
            out += "  \(name):\(String(repeating: " ", count: width - name.count + 1)){ \(fields.joined(separator: ", ")) }\n"
        }
        return out
    }

    /// The observed range widened by a tenth of its span (a tenth of the value when the span is
    /// zero), rounded outwards to the largest power of ten within that margin, so bounds read as
    /// 4.5 rather than 4.4873; not below zero when the data has no negative value. As text.
    public static func widened(_ low: Double, _ high: Double, integer: Bool) -> (String, String) {
        let span = high - low
        let margin = span > 0 ? span / 10 : max(abs(high) / 10, 1)
        // step = 10^exponent, the largest power of ten at most the margin.
        var exponent = 0
        while pow10(exponent) > margin, exponent > -12 { exponent -= 1 }
        while pow10(exponent + 1) <= margin, exponent < 300 { exponent += 1 }
        if integer { exponent = max(exponent, 0) }
        let step = pow10(exponent)
        // A millionth of a step absorbs binary rounding (0.0009 / 0.0001 is 8.999…).
        var lower = ((low - margin) / step + 1e-6).rounded(.down)
        let upper = ((high + margin) / step - 1e-6).rounded(.up)
        if low >= 0, lower < 0 { lower = 0 }
        return (decimal(lower, exponent), decimal(upper, exponent))
    }

    private static func pow10(_ e: Int) -> Double {
        var x = 1.0
        if e >= 0 { for _ in 0..<e { x *= 10 } } else { for _ in 0..<(-e) { x /= 10 } }
        return x
    }

    /// `units` × 10^`exponent` written out exactly (units is a whole number).
    private static func decimal(_ units: Double, _ exponent: Int) -> String {
        guard abs(units) < 9e15 else { return String(units * pow10(exponent)) }
        let negative = units < 0
        var digits = String(Int64(abs(units)))
        if exponent >= 0 {
            if digits != "0" { digits += String(repeating: "0", count: exponent) }
        } else {
            let places = -exponent
            if digits.count <= places { digits = String(repeating: "0", count: places - digits.count + 1) + digits }
            digits.insert(".", at: digits.index(digits.endIndex, offsetBy: -places))
            while digits.hasSuffix("0") { digits.removeLast() }
            if digits.hasSuffix(".") { digits.removeLast() }
        }
        return (negative && digits != "0" ? "-" : "") + digits
    }

    /// A mapping key: plain when safe, else a double-quoted (JSON) string.
    private static func key(_ text: String) -> String { scalar(text) }

    /// A YAML scalar that reads back as this exact string.
    static func scalar(_ text: String) -> String {
        let reserved: Set<String> = ["true", "false", "null", "yes", "no", "on", "off", "y", "n", "~"]
        let plain = !text.isEmpty && !reserved.contains(text.lowercased())
            && text.unicodeScalars.allSatisfy { $0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "_" || $0 == "-" || $0 == "." || $0 == " " || $0 == "/" }
            && text.first != " " && text.last != " " && text.first != "-" && text.first != "."
            && Double(text) == nil
        if plain { return text }
        var out = ""
        NodeJSON.quote(text, into: &out)
        return out
    }
}
