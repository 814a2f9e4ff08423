/// A parsed YAML/JSON document: every node keeps where it came from, so that any
/// error found while decoding can name file:line:col. Produced by the YAML adapter;
/// the core decodes specs, policies and metrics from it without doing any I/O.
///
/// A node read from a file is a place in its document's `NodeArena` (a reference and an
/// index: copied with one reference count, nothing allocated per node). A node built or
/// changed in code holds its own value; reading either kind looks the same.
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

    private final class Own: Sendable {
        let value: Value
        let location: SourceLocation
        let tag: String?
        init(_ value: Value, _ location: SourceLocation, _ tag: String?) {
            self.value = value
            self.location = location
            self.tag = tag
        }
    }

    private enum Storage: Sendable {
        case arena(NodeArena, Int32)
        case own(Own)
    }

    private var storage: Storage

    public init(_ value: Value, at location: SourceLocation, tag: String? = nil) {
        storage = .own(Own(value, location, tag))
    }

    /// Node `index` of a built arena.
    public init(in arena: NodeArena, index: Int32) {
        storage = .arena(arena, index)
    }

    public var value: Value {
        get {
            switch storage {
            case .own(let own): return own.value
            case .arena(let arena, let i):
                let e = arena.content(i)
                let start = Int(e.start)
                switch e.kind {
                case .scalar, .alias: return .scalar(Scalar(arena.string(e), isPlain: e.isPlain))
                case .sequence:
                    return .sequence((0..<Int(e.count)).map { Node(in: arena, index: arena.children[start + $0]) })
                case .mapping:
                    return .mapping((0..<Int(e.count)).map {
                        Pair(key: Node(in: arena, index: arena.children[start + 2 * $0]),
                             value: Node(in: arena, index: arena.children[start + 2 * $0 + 1]))
                    })
                }
            }
        }
        set { storage = .own(Own(newValue, location, tag)) }
    }

    public var location: SourceLocation {
        get {
            switch storage {
            case .own(let own): return own.location
            case .arena(let arena, let i):
                let e = arena.entries[Int(i)]
                return SourceLocation(file: arena.file, line: Int(e.line), column: Int(e.column))
            }
        }
        set { storage = .own(Own(value, newValue, tag)) }
    }

    /// An explicit tag such as `!!str`, if the document had one.
    public var tag: String? {
        get {
            switch storage {
            case .own(let own): return own.tag
            case .arena(let arena, let i):
                let e = arena.content(i)
                return e.tag < 0 ? nil : arena.tags[Int(e.tag)]
            }
        }
        set { storage = .own(Own(value, location, newValue)) }
    }

    public static func == (lhs: Node, rhs: Node) -> Bool {
        if case .arena(let a, let i) = lhs.storage, case .arena(let b, let j) = rhs.storage, a === b, i == j { return true }
        return lhs.value == rhs.value && lhs.location == rhs.location && lhs.tag == rhs.tag
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(value)
        hasher.combine(location)
        hasher.combine(tag)
    }

    /// The scalar entry of an arena node (nil: a collection, or a node built in code).
    private var arenaScalar: (NodeArena, NodeArena.Entry)? {
        guard case .arena(let arena, let i) = storage else { return nil }
        let e = arena.content(i)
        return e.kind == .scalar ? (arena, e) : nil
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
    /// Whether the node is a scalar (null included).
    public var isScalar: Bool {
        if case .arena(let arena, let i) = storage { return arena.content(i).kind == .scalar }
        if case .scalar = value { return true }
        return false
    }

    /// A short name for the node's kind, for "expected X, found Y" messages.
    public var kindName: String {
        if case .arena(let arena, let i) = storage {
            switch arena.content(i).kind {
            case .mapping: return "a mapping"
            case .sequence: return "a list"
            case .scalar, .alias: break
            }
        }
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
        // A tag makes a scalar not plain, so only untagged plain text can be null in an arena.
        if let (arena, e) = arenaScalar { return arena.isNull(e) }
        guard case .scalar(let s) = value, s.isPlain, tag == nil || tag == "tag:yaml.org,2002:null" else { return false }
        return s.text.isEmpty || s.text == "~" || s.text == "null" || s.text == "Null" || s.text == "NULL"
    }

    /// The text of any scalar (a number or boolean read as text too).
    public var string: String? {
        if let (arena, e) = arenaScalar { return arena.isNull(e) ? nil : arena.string(e) }
        guard case .scalar(let s) = value, !isNull else { return nil }
        return s.text
    }

    public var bool: Bool? {
        if let (arena, e) = arenaScalar {
            guard e.isPlain, e.count == 4 || e.count == 5 else { return nil }
            if arena.scalar(e, is: "true") || arena.scalar(e, is: "True") || arena.scalar(e, is: "TRUE") { return true }
            if arena.scalar(e, is: "false") || arena.scalar(e, is: "False") || arena.scalar(e, is: "FALSE") { return false }
            return nil
        }
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
        if case .arena(let arena, let i) = storage, arena.content(i).kind != .sequence { return nil }
        if case .sequence(let items) = value { return items }
        return nil
    }

    public var mapping: [Pair]? {
        if case .arena(let arena, let i) = storage, arena.content(i).kind != .mapping { return nil }
        if case .mapping(let pairs) = value { return pairs }
        return nil
    }

    /// The value under a string key of a mapping (the first, if a key repeats).
    public subscript(key: String) -> Node? {
        if case .arena(let arena, let i) = storage {
            let e = arena.content(i)
            guard e.kind == .mapping else { return nil }
            for p in 0..<Int(e.count) {
                let k = arena.children[Int(e.start) + 2 * p]
                let ke = arena.content(k)
                // `string` of a null key is nil, and nil never equals a key.
                if ke.kind == .scalar, arena.scalar(ke, equals: key), !arena.isNull(ke) {
                    return Node(in: arena, index: arena.children[Int(e.start) + 2 * p + 1])
                }
            }
            return nil
        }
        return mapping?.first { $0.key.string == key }?.value
    }
}
