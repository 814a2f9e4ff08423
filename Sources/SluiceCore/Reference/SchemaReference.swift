/// Every key of `sluice.yaml`, read from its JSON Schema (`Spec/sluice.schema.json`): what
/// `sluice explain <key path>` prints and what the generated reference page lists. Paths are
/// dotted; a list is transparent (`environments.strategy.canary.steps`, as `kubectl explain`
/// reads lists) and a mapping of named entries has a `<name>` step (`stages.<name>.needs`;
/// `stages.train.needs` finds it too).
public struct SchemaReference: Sendable {
    public struct Entry: Sendable, Equatable {
        /// `stages.<name>.needs`
        public var path: String
        /// `list of string`, `one of: local, kubernetes`, `mapping of <name> to a stage`.
        public var type: String
        public var required: Bool
        public var defaultValue: String?
        public var description: String?
        /// What a value must also satisfy: `at least 1`, `matches ^[a-z0-9]...`.
        public var constraints: [String]
        public var examples: [String]
        /// The keys one level down.
        public var fields: [String]
    }

    public private(set) var entries: [Entry] = []
    private let defs: [String: Node]
    /// Our own schema is a dozen levels deep; this bounds a schema that refers to itself.
    private static let depthLimit = 16

    public init(schema: Node) {
        var defs: [String: Node] = [:]
        for pair in schema["$defs"]?.mapping ?? [] { if let name = pair.key.string { defs[name] = pair.value } }
        self.defs = defs
        for (key, child, required) in properties(of: schema) {
            collect(key, child, required: required, depth: 0)
        }
    }

    /// The top-level keys, in the schema's order.
    public var topLevel: [Entry] { entries.filter { !$0.path.contains(".") } }

    public enum LookupError: Error, Equatable, CustomStringConvertible {
        case unknown(path: String, known: String, suggestion: String?, under: [String])

        public var description: String {
            switch self {
            case .unknown(let path, let known, let suggestion, let under):
                let place = known.isEmpty ? "at the top level of sluice.yaml" : "under \(known)"
                return "sluice.yaml has no key \(path): nothing \(place) is called that" + (suggestion.map { "; did you mean '\($0)'?" } ?? "")
                    + (under.isEmpty ? "" : " (keys there: \(under.joined(separator: ", ")))")
            }
        }
    }

    /// The entry for a dotted path; list indexes (`environments[0]`) are ignored and any name
    /// fills a `<name>` step.
    public func entry(for path: String) -> Result<Entry, LookupError> {
        var steps = path.split(separator: ".").map { step -> String in
            var s = String(step)
            while let open = s.lastIndex(of: "["), s.hasSuffix("]") { s = String(s[..<open]) }
            return s
        }.filter { !$0.isEmpty }
        var known = ""
        while !steps.isEmpty {
            let step = steps.removeFirst()
            let children = entries.filter { parent(of: $0.path) == known }
            let match = children.first { last(of: $0.path) == step } ?? children.first { last(of: $0.path) == "<name>" }
            guard let match else {
                let names = children.map { last(of: $0.path) }
                return .failure(.unknown(path: path, known: known, suggestion: Suggestion.nearest(to: step, in: names), under: names))
            }
            known = match.path
        }
        guard let found = entries.first(where: { $0.path == known }) else {
            return .failure(.unknown(path: path, known: "", suggestion: nil, under: topLevel.map(\.path)))
        }
        return .success(found)
    }

    // MARK: reading the schema

    private mutating func collect(_ path: String, _ node: Node, required: Bool, depth: Int) {
        guard depth < Self.depthLimit else { return }
        let resolved = resolve(node)
        var children = properties(of: resolved)
        let item = resolved["items"].map { resolve($0) }
        if let item { children += properties(of: item) }
        let named = namedEntries(of: resolved)
        let fields = named != nil ? ["<name>"] : children.map(\.key)
        entries.append(Entry(path: path, type: typeText(node), required: required, defaultValue: resolved["default"].map(NodeJSON.render),
                             description: node["description"]?.string ?? resolved["description"]?.string, constraints: constraints(of: resolved),
                             examples: (resolved["examples"]?.sequence ?? []).map(NodeJSON.render), fields: fields))
        if let named {
            collect(path + ".<name>", named, required: false, depth: depth + 1)
        }
        for (key, child, childRequired) in children {
            collect(path + "." + key, child, required: childRequired, depth: depth + 1)
        }
    }

    /// A mapping of user-named entries whose values are themselves objects with keys
    /// (`stages`, `datasets`): the entries get a `<name>` step.
    private func namedEntries(of node: Node) -> Node? {
        guard let extra = node["additionalProperties"], extra.mapping != nil else { return nil }
        let resolved = resolve(extra)
        return resolved["properties"] != nil ? extra : nil
    }

    private func properties(of node: Node) -> [(key: String, node: Node, required: Bool)] {
        let required = Set((node["required"]?.sequence ?? []).compactMap(\.string))
        return (node["properties"]?.mapping ?? []).compactMap { pair in
            pair.key.string.map { ($0, pair.value, required.contains($0)) }
        }
    }

    /// Follows `$ref: "#/$defs/NAME"`; the referring node's own keys (its description) win
    /// where the entry reads them.
    private func resolve(_ node: Node, depth: Int = 0) -> Node {
        guard depth < Self.depthLimit, let ref = node["$ref"]?.string, ref.hasPrefix("#/$defs/"),
              let target = defs[String(ref.dropFirst("#/$defs/".count))] else { return node }
        return resolve(target, depth: depth + 1)
    }

    private func typeText(_ node: Node, depth: Int = 0) -> String {
        guard depth < Self.depthLimit else { return "value" }
        // A reference to a definition with keys reads as its name: `list of environment`.
        if depth > 0, let ref = node["$ref"]?.string, ref.hasPrefix("#/$defs/"), resolve(node)["properties"] != nil {
            return String(ref.dropFirst("#/$defs/".count))
        }
        let node = resolve(node)
        if let constant = node["const"] { return "the constant " + NodeJSON.render(constant) }
        if let values = node["enum"]?.sequence { return "one of: " + values.map { $0.string ?? NodeJSON.render($0) }.joined(separator: ", ") }
        if let alternatives = (node["oneOf"] ?? node["anyOf"])?.sequence, node["type"] == nil, node["properties"] == nil {
            return alternatives.map { typeText($0, depth: depth + 1) }.joined(separator: " or ")
        }
        let types = node["type"].map { $0.sequence?.compactMap(\.string) ?? [$0.string].compactMap { $0 } } ?? []
        let names = types.map { type -> String in
            switch type {
            case "array": return "list of " + (node["items"].map { typeText($0, depth: depth + 1) } ?? "values")
            case "object":
                if let extra = node["additionalProperties"], extra.mapping != nil, node["properties"] == nil {
                    return "mapping of <name> to " + typeText(extra, depth: depth + 1)
                }
                return "mapping"
            default: return type
            }
        }
        if !names.isEmpty { return names.joined(separator: " or ") }
        if node["properties"] != nil { return "mapping" }
        return "value"
    }

    private func constraints(of node: Node) -> [String] {
        var out: [String] = []
        func number(_ key: String) -> String? { node[key].map(NodeJSON.render) }
        if let v = number("minimum") { out.append("at least \(v)") }
        if let v = number("maximum") { out.append("at most \(v)") }
        if let v = number("minLength"), v != "1" { out.append("at least \(v) characters") }
        if number("minLength") == "1" { out.append("not empty") }
        if let v = number("maxLength") { out.append("at most \(v) characters") }
        if let v = number("minItems") { out.append("at least \(v) item" + (v == "1" ? "" : "s")) }
        if let v = number("minProperties") { out.append("at least \(v) key" + (v == "1" ? "" : "s")) }
        if let p = node["pattern"]?.string { out.append("matches \(p)") }
        if let item = node["items"].map({ resolve($0) }) {
            if let v = item["minimum"].map(NodeJSON.render) { out.append("each at least \(v)") }
            if let v = item["maximum"].map(NodeJSON.render) { out.append("each at most \(v)") }
            if let p = item["pattern"]?.string { out.append("each matches \(p)") }
        }
        if node["not"]?["pattern"] != nil { out.append("a relative path inside the repository (no leading /, no ..)") }
        if let p = node["propertyNames"].map({ resolve($0) })?["pattern"]?.string { out.append("names match \(p)") }
        if let required = node["required"]?.sequence?.compactMap(\.string), !required.isEmpty {
            out.append("requires " + required.joined(separator: ", "))
        }
        if let alternatives = node["oneOf"]?.sequence, node["properties"] != nil {
            let keys = alternatives.compactMap { $0["required"]?.sequence?.compactMap(\.string).joined(separator: "+") }
            if !keys.isEmpty { out.append("exactly one of: " + keys.joined(separator: ", ")) }
        }
        return out
    }

    private func parent(of path: String) -> String {
        guard let dot = path.lastIndex(of: ".") else { return "" }
        return String(path[..<dot])
    }

    private func last(of path: String) -> String {
        guard let dot = path.lastIndex(of: ".") else { return path }
        return String(path[path.index(after: dot)...])
    }
}
