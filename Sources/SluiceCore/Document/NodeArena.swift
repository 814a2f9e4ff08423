/// A parsed document's nodes, stored flat: one fixed-size entry per node, the children of
/// every collection in one index list, and every scalar's text in one byte buffer.
///
/// Nodes read from a file point into it (`Node` is then an arena and an index): parsing
/// allocates a handful of growing arrays instead of an array per collection and a String
/// per scalar, a node is copied with one reference count, and a document is freed at once.
/// Immutable once built; nodes changed in code leave the arena (see `Node`).
public final class NodeArena: Sendable {
    struct Entry: Sendable {
        enum Kind: UInt8, Sendable { case scalar, sequence, mapping, alias }
        var kind: Kind
        /// A plain (unquoted, untagged) scalar.
        var isPlain: Bool
        var line: Int32
        var column: Int32
        /// Scalar: offset of its text in `text`; collection: offset of its children in
        /// `children`; alias: the index of the node it repeats.
        var start: Int32
        /// Scalar: bytes of text; sequence: items; mapping: pairs (2 children each).
        var count: Int32
        /// Index into `tags`, or -1.
        var tag: Int32
    }

    let file: String
    let entries: [Entry]
    let children: [Int32]
    let text: [UInt8]
    let tags: [String]

    fileprivate init(file: String, entries: [Entry], children: [Int32], text: [UInt8], tags: [String]) {
        self.file = file
        self.entries = entries
        self.children = children
        self.text = text
        self.tags = tags
    }

    /// The entry whose content node `i` has (an alias repeats its anchor's).
    @inline(__always)
    func content(_ i: Int32) -> Entry { Self.content(i, in: entries) }

    @inline(__always)
    static func content(_ i: Int32, in entries: [Entry]) -> Entry {
        var e = entries[Int(i)]
        while e.kind == .alias { e = entries[Int(e.start)] }
        return e
    }

    func string(_ e: Entry) -> String {
        text.withUnsafeBufferPointer { all in
            String(decoding: UnsafeBufferPointer(rebasing: all[Int(e.start)..<Int(e.start + e.count)]), as: UTF8.self)
        }
    }

    func isNull(_ e: Entry) -> Bool { Self.isNull(e, text) }

    /// YAML's null: an untagged plain scalar that is empty, `~` or `null` in one of three cases.
    static func isNull(_ e: Entry, _ text: [UInt8]) -> Bool {
        guard e.kind == .scalar, e.isPlain else { return false }
        switch e.count {
        case 0: return true
        case 1: return scalar(e, is: "~", text)
        case 4: return scalar(e, is: "null", text) || scalar(e, is: "Null", text) || scalar(e, is: "NULL", text)
        default: return false
        }
    }

    func scalar(_ e: Entry, is literal: StaticString) -> Bool { Self.scalar(e, is: literal, text) }

    /// Whether a scalar's text is exactly `literal`, without building a String.
    static func scalar(_ e: Entry, is literal: StaticString, _ text: [UInt8]) -> Bool {
        guard Int(e.count) == literal.utf8CodeUnitCount else { return false }
        return text.withUnsafeBufferPointer { all in
            let base = Int(e.start)
            for k in 0..<Int(e.count) where all[base + k] != literal.utf8Start[k] { return false }
            return true
        }
    }

    func scalar(_ e: Entry, equals key: String) -> Bool {
        var key = key
        return key.withUTF8 { k in
            guard k.count == Int(e.count) else { return false }
            return text.withUnsafeBufferPointer { all in
                k.count == 0 || memcmpEqual(all.baseAddress! + Int(e.start), k.baseAddress!, k.count)
            }
        }
    }
}

@inline(__always)
private func memcmpEqual(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, _ n: Int) -> Bool {
    for k in 0..<n where a[k] != b[k] { return false }
    return true
}

/// Builds a `NodeArena` node by node, children before their collection (the order a YAML
/// parser's events finish them in). Returns indices; `finish` hands out the arena.
public struct NodeArenaBuilder {
    private let file: String
    private var entries: [NodeArena.Entry] = []
    private var children: [Int32] = []
    private var text: [UInt8] = []
    private var tags: [String] = []
    private var tagIndex: [String: Int32] = [:]

    public init(file: String) {
        self.file = file
    }

    public mutating func scalar(_ bytes: UnsafeBufferPointer<UInt8>, plain: Bool, line: Int, column: Int, tag: String?) -> Int32 {
        let start = Int32(clamping: text.count)
        text.append(contentsOf: bytes)
        return add(.scalar, plain: plain && tag == nil, line: line, column: column, start: start, count: Int32(clamping: bytes.count), tag: tag)
    }

    public mutating func sequence(_ items: ArraySlice<Int32>, line: Int, column: Int, tag: String?) -> Int32 {
        let start = Int32(clamping: children.count)
        children.append(contentsOf: items)
        return add(.sequence, plain: false, line: line, column: column, start: start, count: Int32(clamping: items.count), tag: tag)
    }

    /// `keysAndValues`: key, value, key, value, ...
    public mutating func mapping(_ keysAndValues: ArraySlice<Int32>, line: Int, column: Int, tag: String?) -> Int32 {
        let start = Int32(clamping: children.count)
        children.append(contentsOf: keysAndValues)
        return add(.mapping, plain: false, line: line, column: column, start: start, count: Int32(clamping: keysAndValues.count / 2), tag: tag)
    }

    /// A node with `target`'s content at another place (a YAML alias).
    public mutating func alias(of target: Int32, line: Int, column: Int) -> Int32 {
        add(.alias, plain: false, line: line, column: column, start: target, count: 0, tag: nil)
    }

    private mutating func add(_ kind: NodeArena.Entry.Kind, plain: Bool, line: Int, column: Int, start: Int32, count: Int32, tag: String?) -> Int32 {
        var tagNumber: Int32 = -1
        if let tag {
            if let known = tagIndex[tag] {
                tagNumber = known
            } else {
                tagNumber = Int32(clamping: tags.count)
                tags.append(tag)
                tagIndex[tag] = tagNumber
            }
        }
        entries.append(.init(kind: kind, isPlain: plain, line: Int32(clamping: line), column: Int32(clamping: column),
                             start: start, count: count, tag: tagNumber))
        return Int32(clamping: entries.count - 1)
    }

    // MARK: reading while building (YAML merge keys)

    private func content(_ i: Int32) -> NodeArena.Entry { NodeArena.content(i, in: entries) }

    /// Whether node `i` is the plain scalar `<<` (a YAML merge key).
    public func isMergeKey(_ i: Int32) -> Bool {
        let e = content(i)
        return e.kind == .scalar && e.isPlain && e.count == 2 && text[Int(e.start)] == 0x3C && text[Int(e.start) + 1] == 0x3C
    }

    /// A scalar's text as `Node.string` reads it: nil for collections and nulls.
    public func stringValue(_ i: Int32) -> String? {
        let e = content(i)
        guard e.kind == .scalar, !NodeArena.isNull(e, text) else { return nil }
        return String(decoding: text[Int(e.start)..<Int(e.start + e.count)], as: UTF8.self)
    }

    public func items(_ i: Int32) -> [Int32]? {
        let e = content(i)
        guard e.kind == .sequence else { return nil }
        return Array(children[Int(e.start)..<Int(e.start + e.count)])
    }

    /// key, value, key, value, ... of a mapping.
    public func keysAndValues(_ i: Int32) -> [Int32]? {
        let e = content(i)
        guard e.kind == .mapping else { return nil }
        return Array(children[Int(e.start)..<Int(e.start + 2 * e.count)])
    }

    public func finish() -> NodeArena {
        NodeArena(file: file, entries: entries, children: children, text: text, tags: tags)
    }
}
