/// Renders a `Node` as JSON text, resolving plain scalars the way YAML 1.2's core
/// schema does (null, booleans, numbers); everything else is a string. Keys are
/// kept in document order, so the output is deterministic.
public enum NodeJSON {
    public static func render(_ node: Node) -> String {
        var out = ""
        write(node, into: &out)
        return out
    }

    private static func write(_ node: Node, into out: inout String) {
        switch node.value {
        case .scalar(let s):
            if node.isNull {
                out += "null"
            } else if s.isPlain, let b = node.bool {
                out += b ? "true" : "false"
            } else if s.isPlain, let i = node.int {
                out += String(i)
            } else if s.isPlain, let d = node.double, d.isFinite {
                out += "\(d)"
            } else {
                quote(s.text, into: &out)
            }
        case .sequence(let items):
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += "," }
                write(item, into: &out)
            }
            out += "]"
        case .mapping(let pairs):
            out += "{"
            for (i, pair) in pairs.enumerated() {
                if i > 0 { out += "," }
                quote(pair.key.string ?? render(pair.key), into: &out)
                out += ":"
                write(pair.value, into: &out)
            }
            out += "}"
        }
    }

    /// A JSON string literal with the required escapes.
    public static func quote(_ text: String, into out: inout String) {
        out += "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }
}
