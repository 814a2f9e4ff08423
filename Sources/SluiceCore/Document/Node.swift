/// A parsed YAML/JSON document: every node keeps where it came from, so that any
/// error found while decoding can name file:line:col. Produced by the YAML adapter;
/// the core decodes specs, policies and metrics from it without doing any I/O.
public struct Node: Hashable, Sendable {
    public enum Value: Hashable, Sendable {
        case scalar(Scalar)
        case sequence([Node])
        case mapping([Pair])
    }

    public struct Pair: Hashable, Sendable {
        public var key: Node
        public var value: Node
        public init(key: Node, value: Node) {
            self.key = key
            self.value = value
        }
    }

    public var value: Value
    public var location: SourceLocation
    /// An explicit tag such as `!!str`, if the document had one.
    public var tag: String?

    public init(_ value: Value, at location: SourceLocation, tag: String? = nil) {
        self.value = value
        self.location = location
        self.tag = tag
    }
}

/// A scalar's text and whether it was written plain (unquoted). Only plain scalars
/// resolve to null, booleans and numbers; `"true"` stays a string.
public struct Scalar: Hashable, Sendable {
    public var text: String
    public var isPlain: Bool

    public init(_ text: String, isPlain: Bool = true) {
        self.text = text
        self.isPlain = isPlain
    }
}

extension Node {
    /// A short name for the node's kind, for "expected X, found Y" messages.
    public var kindName: String {
        switch value {
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .scalar(let s):
            if isNull { return "null" }
            if s.isPlain, bool != nil { return "a boolean" }
            if s.isPlain, double != nil { return "a number" }
            return "a string"
        }
    }

    public var isNull: Bool {
        guard case .scalar(let s) = value, s.isPlain, tag == nil || tag == "tag:yaml.org,2002:null" else { return false }
        return s.text.isEmpty || s.text == "~" || s.text == "null" || s.text == "Null" || s.text == "NULL"
    }

    /// The text of any scalar (a number or boolean read as text too).
    public var string: String? {
        guard case .scalar(let s) = value, !isNull else { return nil }
        return s.text
    }

    public var bool: Bool? {
        guard case .scalar(let s) = value, s.isPlain else { return nil }
        switch s.text {
        case "true", "True", "TRUE": return true
        case "false", "False", "FALSE": return false
        default: return nil
        }
    }

    public var int: Int? {
        guard case .scalar(let s) = value, s.isPlain else { return nil }
        return Int(String(s.text.filter { $0 != "_" }))
    }

    public var double: Double? {
        guard case .scalar(let s) = value, s.isPlain else { return nil }
        switch s.text {
        case ".nan", ".NaN", ".NAN": return .nan
        case ".inf", ".Inf", ".INF", "+.inf": return .infinity
        case "-.inf", "-.Inf", "-.INF": return -.infinity
        default: break
        }
        guard let first = s.text.first, first.isNumber || first == "-" || first == "+" || first == "." else { return nil }
        return Double(s.text)
    }

    public var sequence: [Node]? {
        if case .sequence(let items) = value { return items }
        return nil
    }

    public var mapping: [Pair]? {
        if case .mapping(let pairs) = value { return pairs }
        return nil
    }

    /// The value under a string key of a mapping (the first, if a key repeats).
    public subscript(key: String) -> Node? {
        mapping?.first { $0.key.string == key }?.value
    }
}
