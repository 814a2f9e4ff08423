/// A metrics file flattened for the gate: nested keys joined with `.`, slices (under
/// `slices`) kept apart, each with the same flattening.
public struct MetricSet: Hashable, Sendable, Codable {
    public var values: [String: Double]
    public var slices: [String: [String: Double]]

    public init(values: [String: Double] = [:], slices: [String: [String: Double]] = [:]) {
        self.values = values
        self.slices = slices
    }

    /// Where a metric (its flattened name, `test.accuracy`; in `slice` when given) is written in a
    /// metrics document, for errors about its value.
    public static func location(of metric: String, slice: String?, in root: Node) -> SourceLocation? {
        var node = root
        if let slice {
            guard let inSlice = node["slices"]?[slice] else { return nil }
            node = inSlice
        }
        return location(of: metric[...], in: node, depth: 0)
    }

    private static func location(of name: Substring, in node: Node, depth: Int) -> SourceLocation? {
        guard depth < 64, let pairs = node.mapping else { return nil }
        for pair in pairs {
            guard let key = pair.key.string else { continue }
            if key == name { return pair.value.location }
            if name.hasPrefix(key + "."), let found = location(of: name.dropFirst(key.count + 1), in: pair.value, depth: depth + 1) { return found }
        }
        return nil
    }

    /// Reads a parsed metrics document. Strings where numbers belong and lists are
    /// reported with their location; `.nan`/`NaN` are kept (the gate fails them).
    public static func read(_ root: Node?, file: String) -> (metrics: MetricSet?, diagnostics: [Diagnostic]) {
        var reader = NodeReader()
        guard let root, root.mapping != nil else {
            let at = root?.location ?? SourceLocation(file: file, line: 1, column: 1)
            return (nil, [.error(at: at, "a metrics file must be a mapping of metric names to numbers", hint: "e.g. {\"accuracy\": 0.95}")])
        }
        var set = MetricSet()
        flatten(root, prefix: "", into: &set.values, reader: &reader, allowSlices: true, slices: &set.slices)
        return (reader.diagnostics.hasErrors ? nil : set, reader.diagnostics)
    }

    private static func flatten(_ node: Node, prefix: String, into values: inout [String: Double], reader: inout NodeReader,
                                allowSlices: Bool, slices: inout [String: [String: Double]]) {
        guard let pairs = node.mapping else { return }
        for pair in pairs {
            guard let key = pair.key.string else { continue }
            let name = prefix.isEmpty ? key : prefix + "." + key
            if allowSlices, prefix.isEmpty, key == "slices" {
                guard let sliceList = pair.value.mapping else {
                    reader.error(pair.value, "'slices' must map slice names to metrics, found \(pair.value.kindName)")
                    continue
                }
                for slice in sliceList {
                    guard let sliceName = slice.key.string else { continue }
                    var sliceValues: [String: Double] = [:]
                    var unused: [String: [String: Double]] = [:]
                    flatten(slice.value, prefix: "", into: &sliceValues, reader: &reader, allowSlices: false, slices: &unused)
                    slices[sliceName] = sliceValues
                }
                continue
            }
            switch pair.value.value {
            case .mapping:
                flatten(pair.value, prefix: name, into: &values, reader: &reader, allowSlices: false, slices: &slices)
            case .sequence:
                reader.error(pair.value, "metric '\(name)' is a list; metrics must be numbers")
            case .scalar(let s):
                if let b = pair.value.bool, s.isPlain { values[name] = b ? 1 : 0; continue }
                if let d = Self.number(pair.value) { values[name] = d; continue }
                reader.error(pair.value, "metric '\(name)' must be a number, found \(pair.value.isNull ? "null" : "'\(s.text)'")")
            }
        }
    }

    /// Plain numbers, and NaN written any usual way (JSON has no NaN; Python writes `NaN`).
    static func number(_ node: Node) -> Double? {
        guard case .scalar(let s) = node.value else { return nil }
        if s.isPlain, let d = node.double { return d }
        switch s.text {
        case "NaN", "nan", "-nan": return .nan
        case "Infinity", "inf": return .infinity
        case "-Infinity", "-inf": return -.infinity
        default: return s.isPlain ? nil : nil
        }
    }
}
