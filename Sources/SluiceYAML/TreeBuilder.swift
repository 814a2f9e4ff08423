import SluiceCore

/// Turns libyaml's event stream into `Node` trees.
struct TreeBuilder {
    let file: String
    let nodeLimit: Int
    let bytes: [UInt8]
    private(set) var documents: [Node] = []

    private enum Frame {
        case sequence([Node], SourceLocation, anchor: String?, tag: String?)
        case mapping([Node.Pair], pendingKey: Node?, SourceLocation, anchor: String?, tag: String?)
    }

    private var stack: [Frame] = []
    private var anchors: [String: (node: Node, size: Int)] = [:]
    private var totalNodes = 0
    private var sizes: [Int] = []   // running subtree size per open frame

    init(file: String, nodeLimit: Int, bytes: [UInt8]) {
        self.file = file
        self.nodeLimit = nodeLimit
        self.bytes = bytes
    }

    private func location(_ e: LibYAMLParser.Event) -> SourceLocation {
        SourceLocation(file: file, line: e.line, column: e.column)
    }

    mutating func handle(_ event: LibYAMLParser.Event) throws(YAMLError) {
        switch event.kind {
        case .streamStart, .streamEnd, .documentEnd:
            break
        case .documentStart:
            anchors = [:]
        case .scalar(let text, let plain):
            try complete(Node(.scalar(Scalar(text, isPlain: plain && event.tag == nil)), at: location(event), tag: event.tag),
                         size: 1, anchor: event.anchor)
        case .alias(let name):
            guard let target = anchors[name] else {
                throw YAMLError(.error(at: location(event), "unknown alias '*\(name)'", hint: "define '&\(name)' before using it"))
            }
            var copy = target.node
            copy.location = location(event)
            try complete(copy, size: target.size, anchor: nil)
        case .sequenceStart:
            stack.append(.sequence([], location(event), anchor: event.anchor, tag: event.tag))
            sizes.append(1)
        case .mappingStart:
            stack.append(.mapping([], pendingKey: nil, location(event), anchor: event.anchor, tag: event.tag))
            sizes.append(1)
        case .sequenceEnd:
            guard case .sequence(let items, let loc, let anchor, let tag)? = stack.popLast() else { return }
            let size = sizes.removeLast()
            try complete(Node(.sequence(items), at: loc, tag: tag), size: size, anchor: anchor, counted: true)
        case .mappingEnd:
            guard case .mapping(let pairs, _, let loc, let anchor, let tag)? = stack.popLast() else { return }
            let size = sizes.removeLast()
            try complete(Node(.mapping(Self.applyingMergeKeys(pairs)), at: loc, tag: tag), size: size, anchor: anchor, counted: true)
        }
    }

    /// Adds a finished node to its parent (or as a document). `counted` nodes were
    /// already added to the running total while their children arrived.
    private mutating func complete(_ node: Node, size: Int, anchor: String?, counted: Bool = false) throws(YAMLError) {
        if !counted {
            totalNodes += size
            if totalNodes > nodeLimit {
                throw YAMLError(.error(at: node.location,
                    "the document expands to more than \(nodeLimit) nodes through aliases; refusing to expand it",
                    hint: "this looks like a YAML bomb; use fewer nested aliases"))
            }
        }
        if let anchor { anchors[anchor] = (node, size) }
        guard let top = stack.popLast() else {
            documents.append(node)
            return
        }
        sizes[sizes.count - 1] += size
        switch top {
        case .sequence(var items, let loc, let a, let t):
            items.append(node)
            stack.append(.sequence(items, loc, anchor: a, tag: t))
        case .mapping(var pairs, let pending, let loc, let a, let t):
            if let key = pending {
                pairs.append(Node.Pair(key: key, value: node))
                stack.append(.mapping(pairs, pendingKey: nil, loc, anchor: a, tag: t))
            } else {
                stack.append(.mapping(pairs, pendingKey: node, loc, anchor: a, tag: t))
            }
        }
    }

    /// YAML 1.1 merge keys: `<<: *defaults` (or a list of them) copies keys the
    /// mapping does not set itself.
    static func applyingMergeKeys(_ pairs: [Node.Pair]) -> [Node.Pair] {
        guard pairs.contains(where: { isMergeKey($0.key) }) else { return pairs }
        var own = pairs.filter { !isMergeKey($0.key) }
        var keys = Set(own.compactMap { $0.key.string })
        for pair in pairs where isMergeKey(pair.key) {
            let sources = pair.value.sequence ?? [pair.value]
            for source in sources {
                for inherited in source.mapping ?? [] {
                    guard let k = inherited.key.string, keys.insert(k).inserted else { continue }
                    own.append(inherited)
                }
            }
        }
        return own
    }

    private static func isMergeKey(_ node: Node) -> Bool {
        if case .scalar(let s) = node.value, s.isPlain, s.text == "<<" { return true }
        return false
    }

    func diagnostic(for failure: LibYAMLParser.Failure) -> Diagnostic {
        var message = failure.problem
        if let context = failure.context { message = "\(context): \(message)" }
        var hint: String?
        if failure.offset >= 0, failure.offset < bytes.count, bytes[failure.offset] == 0x09 {
            hint = "YAML does not allow tabs for indentation; indent with spaces"
        } else if failure.problem.contains("tab") {
            hint = "YAML does not allow tabs for indentation; indent with spaces"
        } else if failure.problem.contains("UTF-8") || failure.problem.contains("octet") {
            hint = "save the file as UTF-8"
        }
        return .error(at: SourceLocation(file: file, line: failure.line, column: failure.column), message, hint: hint)
    }
}
