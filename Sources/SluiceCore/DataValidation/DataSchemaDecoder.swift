/// Decodes a data schema file, collecting every problem with its location, the same
/// way `SpecDecoder` does for `sluice.yaml`.
public enum DataSchemaDecoder {
    public static let topLevelKeys = ["format", "delimiter", "null-values", "rows", "columns", "drift"]
    public static let columnKeys = ["type", "nullable", "min", "max", "allowed", "pattern", "unique", "drift"]
    public static let rowsKeys = ["min", "max"]
    public static let driftKeys = ["psi", "ks", "chi2-p-value", "bins", "exact-limit"]
    /// The largest `drift.exact-limit` (80 MB of values per numeric column) and `drift.bins`.
    public static let maxExactLimit = 10_000_000
    public static let maxBins = 10_000

    public static func decode(_ root: Node, file: String) -> (schema: DataSchema?, diagnostics: [Diagnostic]) {
        var reader = NodeReader()
        var schema = DataSchema(file: file, columns: [])
        guard let fields = reader.mapping(root, what: "the data schema", allowed: topLevelKeys) else {
            return (nil, reader.diagnostics)
        }
        var sawColumns = false
        for (key, _, value) in fields {
            switch key {
            case "format":
                guard let text = reader.string(value, what: "'format'") else { continue }
                if let f = DataSchema.Format(rawValue: text) { schema.format = f } else {
                    reader.error(value, "unknown format '\(text)'", hint: "use csv or jsonl")
                }
            case "delimiter":
                guard let text = reader.string(value, what: "'delimiter'") else { continue }
                let bytes = Array((text == "\\t" ? "\t" : text).utf8)
                if bytes.count == 1, bytes[0] != UInt8(ascii: "\""), bytes[0] != 10, bytes[0] != 13 {
                    schema.delimiter = bytes[0]
                } else {
                    reader.error(value, "'delimiter' must be one character other than a quote or newline", hint: "e.g. ',' or ';' or '\\t'")
                }
            case "null-values":
                // Each item is the text that means "missing" in the data: a plain `null` or `~`
                // is that text here, not YAML's null (`["", NA, null]` as the data-validation page shows).
                let items = value.sequence ?? [value]
                var texts: [String] = []
                for item in items {
                    guard case .scalar(let s) = item.value else {
                        reader.error(item, "each item of 'null-values' must be a text, found \(item.kindName)")
                        continue
                    }
                    texts.append(s.text)
                }
                schema.nullValues = texts
            case "rows":
                guard let r = reader.mapping(value, what: "'rows'", allowed: rowsKeys) else { continue }
                for (k, _, v) in r {
                    guard let n = reader.int(v, what: "'rows.\(k)'") else { continue }
                    if n < 0 { reader.error(v, "'rows.\(k)' must not be negative") }
                    if k == "min" { schema.minRows = n } else { schema.maxRows = n }
                }
                if let lo = schema.minRows, let hi = schema.maxRows, lo > hi {
                    reader.error(value, "'rows.min' (\(lo)) is larger than 'rows.max' (\(hi))")
                }
            case "columns":
                sawColumns = true
                schema.columns = decodeColumns(value, reader: &reader)
            case "drift":
                schema.drift = decodeDrift(value, reader: &reader)
            default: break
            }
        }
        if !sawColumns {
            reader.error(root, "the data schema declares no 'columns'", hint: "add 'columns: { name: { type: number } }'")
        }
        return (reader.diagnostics.hasErrors ? nil : schema, reader.diagnostics)
    }

    private static func decodeColumns(_ node: Node, reader: inout NodeReader) -> [DataSchema.Column] {
        guard let entries = reader.mapping(node, what: "'columns'") else { return [] }
        if entries.isEmpty { reader.error(node, "'columns' is empty") }
        var columns: [DataSchema.Column] = []
        let types = DataSchema.ColumnType.allCases.map(\.rawValue)
        for (name, keyNode, value) in entries {
            guard let f = reader.mapping(value, what: "column '\(name)'", allowed: columnKeys) else { continue }
            let fields = Dictionary(f.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
            guard let typeNode = fields["type"] else {
                reader.error(value, "column '\(name)' has no 'type'", hint: "one of: \(types.joined(separator: ", "))")
                continue
            }
            guard let typeText = reader.string(typeNode, what: "'type' of column '\(name)'") else { continue }
            guard let type = DataSchema.ColumnType(rawValue: typeText) else {
                reader.error(typeNode, "unknown type '\(typeText)' for column '\(name)'",
                             hint: Suggestion.hint(for: typeText, in: types) ?? "one of: \(types.joined(separator: ", "))")
                continue
            }
            var column = DataSchema.Column(name: name, type: type, location: keyNode.location)
            for (key, _, v) in f {
                switch key {
                case "nullable": column.nullable = reader.bool(v, what: "'nullable' of column '\(name)'") ?? false
                case "unique":
                    column.unique = reader.bool(v, what: "'unique' of column '\(name)'") ?? false
                    if column.unique, fields["drift"] == nil { column.drift = false }
                case "drift": column.drift = reader.bool(v, what: "'drift' of column '\(name)'") ?? true
                case "min", "max":
                    guard type.isNumeric else {
                        reader.error(v, "'\(key)' applies to integer or number columns; column '\(name)' is \(type.rawValue)")
                        continue
                    }
                    guard let d = v.double, !d.isNaN else {
                        reader.error(v, "'\(key)' of column '\(name)' must be a number, found \(v.kindName)")
                        continue
                    }
                    if key == "min" { column.min = d } else { column.max = d }
                case "allowed":
                    column.allowed = reader.stringList(v, what: "'allowed' of column '\(name)'")?.map(\.0)
                case "pattern":
                    guard let p = reader.string(v, what: "'pattern' of column '\(name)'") else { continue }
                    do {
                        _ = try Regex(p)
                        column.pattern = p
                    } catch {
                        reader.error(v, "'pattern' of column '\(name)' is not a valid regular expression: \(error)")
                    }
                default: break
                }
            }
            if let lo = column.min, let hi = column.max, lo > hi {
                reader.error(value, "'min' (\(lo)) of column '\(name)' is larger than 'max' (\(hi))")
            }
            columns.append(column)
        }
        return columns
    }

    private static func decodeDrift(_ node: Node, reader: inout NodeReader) -> DataSchema.DriftSettings {
        var settings = DataSchema.DriftSettings()
        guard let fields = reader.mapping(node, what: "'drift'", allowed: driftKeys) else { return settings }
        for (key, _, value) in fields {
            switch key {
            case "psi": settings.psi = thresholds(value, what: "drift.psi", increasing: true, reader: &reader) ?? settings.psi
            case "ks": settings.ks = thresholds(value, what: "drift.ks", increasing: true, reader: &reader) ?? settings.ks
            case "chi2-p-value":
                settings.chiSquaredPValue = thresholds(value, what: "drift.chi2-p-value", increasing: false, reader: &reader) ?? settings.chiSquaredPValue
            case "bins", "exact-limit":
                guard let n = reader.int(value, what: "'drift.\(key)'") else { continue }
                if n < 2 { reader.error(value, "'drift.\(key)' must be at least 2") ; continue }
                // Bounded: an exact sample reserves room for `exact-limit` values per column, and
                // the grid's index holds fewer than 65,535 edges.
                let most = key == "bins" ? maxBins : maxExactLimit
                if n > most { reader.error(value, "'drift.\(key)' must be at most \(most)"); continue }
                if key == "bins" { settings.bins = n } else { settings.exactLimit = n }
            default: break
            }
        }
        return settings
    }

    private static func thresholds(_ node: Node, what: String, increasing: Bool, reader: inout NodeReader) -> DataSchema.Thresholds? {
        guard let f = reader.mapping(node, what: "'\(what)'", allowed: ["warn", "fail"]) else { return nil }
        var values: [String: Double] = [:]
        for (key, _, v) in f {
            guard let d = v.double, d.isFinite, d >= 0 else {
                reader.error(v, "'\(what).\(key)' must be a non-negative number, found \(v.kindName)")
                continue
            }
            values[key] = d
        }
        guard let warn = values["warn"], let fail = values["fail"] else {
            reader.error(node, "'\(what)' needs both 'warn' and 'fail'")
            return nil
        }
        if increasing ? warn > fail : warn < fail {
            reader.error(node, "'\(what).warn' (\(warn)) must be \(increasing ? "at most" : "at least") 'fail' (\(fail))",
                         hint: increasing ? "a larger statistic is worse" : "a smaller p-value is worse")
            return nil
        }
        return DataSchema.Thresholds(warn: warn, fail: fail)
    }
}
