import SluiceCore

/// Turns libyaml's event stream into `Node` trees, stored in one `NodeArena` per stream.
struct TreeBuilder {
    let file: String
    let nodeLimit: Int
    let bytes: [UInt8]
    private var arena: NodeArenaBuilder
    private var roots: [Int32] = []

    /// An open sequence or mapping. Its children wait on the shared `children` stack from
    /// `start` on (for a mapping: key, value, key, value) until it closes.
    private struct Frame {
        var isMapping: Bool
        var start: Int
        var line: Int
        var column: Int
        var anchor: String?
        var tag: String?
        var size = 1
    }

    private var stack: [Frame] = []
    private var children: [Int32] = []
    private var anchors: [String: (node: Int32, size: Int)] = [:]
    private var totalNodes = 0

    init(file: String, nodeLimit: Int, bytes: [UInt8]) {
        self.file = file
        self.nodeLimit = nodeLimit
        self.bytes = bytes
        arena = NodeArenaBuilder(file: file)
    }

    /// Every document of the stream, once the last event is handled.
    func documents() -> [Node] {
        let built = arena.finish()
        return roots.map { Node(in: built, index: $0) }
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
        case .scalar(let plain):
            let node = arena.scalar(event.text, plain: plain, line: event.line, column: event.column, tag: event.tag)
            try complete(node, size: 1, anchor: event.anchor, at: event)
        case .alias(let name):
            guard let target = anchors[name] else {
                throw YAMLError(.error(at: location(event), "unknown alias '*\(name)'", hint: "define '&\(name)' before using it"))
            }
            let node = arena.alias(of: target.node, line: event.line, column: event.column)
            try complete(node, size: target.size, anchor: nil, at: event)
        case .sequenceStart, .mappingStart:
            let isMapping = if case .mappingStart = event.kind { true } else { false }
            guard stack.count < YAMLParser.depthLimit else {
                throw YAMLError(.error(at: location(event), "nested more than \(YAMLParser.depthLimit) levels deep; Sluice reads at most \(YAMLParser.depthLimit)",
                                       hint: "flatten the document"))
            }
            totalNodes += 1
            stack.append(Frame(isMapping: isMapping, start: children.count, line: event.line, column: event.column,
                               anchor: event.anchor, tag: event.tag))
        case .sequenceEnd, .mappingEnd:
            guard let frame = stack.popLast() else { return }
            // The slices end with this statement, so `removeLast` below does not copy `children`.
            let node = frame.isMapping
                ? arena.mapping(applyingMergeKeys(children[frame.start...]), line: frame.line, column: frame.column, tag: frame.tag)
                : arena.sequence(children[frame.start...], line: frame.line, column: frame.column, tag: frame.tag)
            children.removeLast(children.count - frame.start)
            try complete(node, size: frame.size, anchor: frame.anchor, at: event, counted: true)
        }
    }

    /// Adds a finished node to its parent (or as a document). `counted` nodes were
    /// already added to the running total while their children arrived.
    private mutating func complete(_ node: Int32, size: Int, anchor: String?, at event: LibYAMLParser.Event, counted: Bool = false) throws(YAMLError) {
        if !counted {
            totalNodes += size
            if totalNodes > nodeLimit {
                throw YAMLError(.error(at: location(event),
                    "the document expands to more than \(nodeLimit) nodes through aliases; refusing to expand it",
                    hint: "this looks like a YAML bomb; use fewer nested aliases"))
            }
        }
        if let anchor { anchors[anchor] = (node, size) }
        guard !stack.isEmpty else {
            roots.append(node)
            return
        }
        stack[stack.count - 1].size += size
        children.append(node)
    }

    /// YAML 1.1 merge keys: `<<: *defaults` (or a list of them) copies keys the
    /// mapping does not set itself. `members`: key, value, key, value, ...
    private func applyingMergeKeys(_ members: ArraySlice<Int32>) -> ArraySlice<Int32> {
        let isMerge = { (key: Int32) in arena.isMergeKey(key) }
        let keyPositions = stride(from: members.startIndex, to: members.endIndex, by: 2)
        guard keyPositions.contains(where: { isMerge(members[$0]) }) else { return members }
        var own: [Int32] = []
        var keys = Set<String>()
        for k in keyPositions where !isMerge(members[k]) {
            own += [members[k], members[k + 1]]
            if let key = arena.stringValue(members[k]) { keys.insert(key) }
        }
        for k in keyPositions where isMerge(members[k]) {
            let value = members[k + 1]
            for source in arena.items(value) ?? [value] {
                let inherited = arena.keysAndValues(source) ?? []
                for j in stride(from: 0, to: inherited.count, by: 2) {
                    guard let key = arena.stringValue(inherited[j]), keys.insert(key).inserted else { continue }
                    own += [inherited[j], inherited[j + 1]]
                }
            }
        }
        return own[...]
    }

    /// libyaml notices an indentation mistake where it can no longer read on, often the line
    /// after the mistake: the hint names the line before as well and says what to look for.
    func indentationHint(_ failure: LibYAMLParser.Failure) -> String? {
        let before = previousLine(before: failure.line).map { "line \($0) or \(failure.line)" } ?? "line \(failure.line)"
        if failure.problem.contains("did not find expected key") {
            return "check the indentation of \(before): the keys of one mapping (and the '- ' items of one list) start in the same column, and what is nested under a key is indented further than it"
        }
        if failure.problem.contains("mapping values are not allowed") {
            return "a 'key: value' where YAML expects a plain value: quote a value that contains ': ', or put a nested mapping on its own line, indented (check \(before))"
        }
        if failure.problem.contains("did not find expected '-' indicator") {
            return "the items of a list start with '- ' in the same column; check the indentation of \(before)"
        }
        if failure.problem.contains("could not find expected ':'") {
            return "a key needs ': ' after it; check \(before) for a missing colon or an unclosed quote"
        }
        return nil
    }

    /// The number of the last non-blank line before line `line` (1-based), if any.
    private func previousLine(before line: Int) -> Int? {
        var current = 1
        var lastNonBlank: Int?
        var blank = true
        for byte in bytes {
            if current >= line { break }
            if byte == 10 {
                if !blank { lastNonBlank = current }
                current += 1
                blank = true
            } else if byte != 32, byte != 9, byte != 13 {
                blank = false
            }
        }
        return lastNonBlank
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
        } else {
            hint = indentationHint(failure)
        }
        return .error(at: SourceLocation(file: file, line: failure.line, column: failure.column), message, hint: hint)
    }
}
