/// Helpers for decoding typed values out of a `Node` tree while collecting every
/// problem as a located `Diagnostic` instead of stopping at the first.
public struct NodeReader {
    public private(set) var diagnostics: [Diagnostic] = []

    public init() {}

    public mutating func error(_ node: Node, _ message: String, hint: String? = nil) {
        diagnostics.append(.error(at: node.location, message, hint: hint))
    }

    public mutating func error(at location: SourceLocation, _ message: String, hint: String? = nil) {
        diagnostics.append(.error(at: location, message, hint: hint))
    }

    public mutating func warning(_ node: Node, _ message: String, hint: String? = nil) {
        diagnostics.append(.warning(at: node.location, message, hint: hint))
    }

    public mutating func append(_ more: [Diagnostic]) { diagnostics += more }

    /// The pairs of a mapping whose keys are strings. Reports keys outside `allowed`
    /// (with a did-you-mean hint), duplicate keys, and non-mapping nodes.
    public mutating func mapping(
        _ node: Node, what: @autoclosure () -> String, allowed: [String]? = nil
    ) -> [(key: String, keyNode: Node, value: Node)]? {
        guard let pairs = node.mapping else {
            error(node, "\(what()) must be a mapping, found \(node.kindName)")
            return nil
        }
        // Sections have a handful of keys: a linear scan finds duplicates faster than hashing;
        // a large mapping (thousands of stages) gets a dictionary.
        var seen: [String: SourceLocation] = [:]
        let small = pairs.count <= 16
        var result: [(key: String, keyNode: Node, value: Node)] = []
        result.reserveCapacity(pairs.count)
        for pair in pairs {
            guard let key = pair.key.string else {
                error(pair.key, "keys in \(what()) must be strings, found \(pair.key.kindName)")
                continue
            }
            if let first = small ? result.first(where: { $0.key == key })?.keyNode.location : seen[key] {
                error(pair.key, "duplicate key '\(key)' in \(what())", hint: "first defined at \(first.line):\(first.column)")
                continue
            }
            if !small { seen[key] = pair.key.location }
            if let allowed, !allowed.contains(where: { $0.quicklyEquals(key) }) {
                let hint = Suggestion.hint(for: key, in: allowed)
                    ?? "expected one of: \(allowed.joined(separator: ", "))"
                error(pair.key, "unknown key '\(key)' in \(what())", hint: hint)
                continue
            }
            result.append((key, pair.key, pair.value))
        }
        return result
    }

    public mutating func string(_ node: Node, what: @autoclosure () -> String) -> String? {
        guard node.isScalar, let s = node.string else {
            error(node, "\(what()) must be a string, found \(node.kindName)")
            return nil
        }
        return s
    }

    public mutating func nonEmptyString(_ node: Node, what: @autoclosure () -> String) -> String? {
        guard let s = string(node, what: what()) else { return nil }
        if s.isEmpty {
            error(node, "\(what()) must not be empty")
            return nil
        }
        return s
    }

    public mutating func bool(_ node: Node, what: @autoclosure () -> String) -> Bool? {
        guard let b = node.bool else {
            error(node, "\(what()) must be true or false, found \(node.kindName)")
            return nil
        }
        return b
    }

    public mutating func int(_ node: Node, what: @autoclosure () -> String) -> Int? {
        guard let i = node.int else {
            error(node, "\(what()) must be a whole number, found \(node.kindName)")
            return nil
        }
        return i
    }

    /// A list of strings; a single string is accepted as a one-item list.
    public mutating func stringList(_ node: Node, what: @autoclosure () -> String) -> [(String, Node)]? {
        if node.isScalar, let s = node.string { return [(s, node)] }
        guard let items = node.sequence else {
            error(node, "\(what()) must be a list of strings, found \(node.kindName)")
            return nil
        }
        var result: [(String, Node)] = []
        for item in items {
            if let s = string(item, what: "each item of \(what())") { result.append((s, item)) }
        }
        return result
    }
}

/// A mapping's fields by key, as `NodeReader.mapping` returned them (duplicates already
/// refused): a linear scan, faster than a dictionary for the dozen keys a section has.
public struct Fields {
    // Keys and values apart: looking through an array of (key, keyNode, value) tuples copied
    // each tuple it passed (three nodes, through the runtime's generic tuple copy).
    private let keys: [String]
    private let values: [Node]

    public init(_ entries: [(key: String, keyNode: Node, value: Node)]) {
        keys = entries.map(\.key)
        values = entries.map(\.value)
    }

    public subscript(_ key: String) -> Node? {
        for i in keys.indices where keys[i].quicklyEquals(key) { return values[i] }
        return nil
    }
}

extension String {
    /// `==`, with lengths compared first: a String comparison that fails is a call into the
    /// runtime, and most keys a decoder compares differ in length.
    @inline(__always)
    fileprivate func quicklyEquals(_ other: String) -> Bool {
        utf8.count == other.utf8.count && self == other
    }
}
