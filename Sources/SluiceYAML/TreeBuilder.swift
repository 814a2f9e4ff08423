import SluiceCore

/// Turns libyaml's event stream into `Node` trees.
struct TreeBuilder {
    let file: String
    let nodeLimit: Int
    let bytes: [UInt8]
    private(set) var documents: [Node] = []

    /// An open sequence or mapping. Its children wait on the shared `items` / `pairs` stacks
    /// from `start` on and move into one array of the exact size when it closes: no array
    /// per open collection growing child by child.
    private struct Frame {
        var isMapping: Bool
        var start: Int
        var pendingKey: Node?
        var location: SourceLocation
        var anchor: String?
        var tag: String?
        var size = 1
    }

    private var stack: [Frame] = []
    private let items = MoveStack<Node>()
    private let pairs = MoveStack<Node.Pair>()
    private var anchors: [String: (node: Node, size: Int)] = [:]
    private var totalNodes = 0

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
        case .sequenceStart, .mappingStart:
            let isMapping = if case .mappingStart = event.kind { true } else { false }
            guard stack.count < YAMLParser.depthLimit else {
                throw YAMLError(.error(at: location(event), "nested more than \(YAMLParser.depthLimit) levels deep; Sluice reads at most \(YAMLParser.depthLimit)",
                                       hint: "flatten the document"))
            }
            totalNodes += 1
            stack.append(Frame(isMapping: isMapping, start: isMapping ? pairs.count : items.count,
                               location: location(event), anchor: event.anchor, tag: event.tag))
        case .sequenceEnd, .mappingEnd:
            guard let frame = stack.popLast() else { return }
            let value: Node.Value
            if frame.isMapping {
                value = .mapping(Self.applyingMergeKeys(pairs.popArray(from: frame.start)))
            } else {
                value = .sequence(items.popArray(from: frame.start))
            }
            try complete(Node(value, at: frame.location, tag: frame.tag), size: frame.size, anchor: frame.anchor, counted: true)
        }
    }

    /// Adds a finished node to its parent (or as a document). `counted` nodes were
    /// already added to the running total while their children arrived.
    private mutating func complete(_ node: consuming Node, size: Int, anchor: String?, counted: Bool = false) throws(YAMLError) {
        if !counted {
            totalNodes += size
            if totalNodes > nodeLimit {
                throw YAMLError(.error(at: node.location,
                    "the document expands to more than \(nodeLimit) nodes through aliases; refusing to expand it",
                    hint: "this looks like a YAML bomb; use fewer nested aliases"))
            }
        }
        if let anchor { anchors[anchor] = (node, size) }
        guard !stack.isEmpty else {
            documents.append(node)
            return
        }
        let last = stack.count - 1
        stack[last].size += size
        if !stack[last].isMapping {
            items.push(consume node)
        } else if let key = stack[last].pendingKey.take() {
            pairs.push(Node.Pair(key: key, value: consume node))
        } else {
            stack[last].pendingKey = consume node
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
