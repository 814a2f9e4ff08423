/// What changed inside a manifest object, field by field, with paths a reviewer can read:
/// `spec.template.spec.containers[name=model].image: a → b`. List items that carry a unique
/// `name` (containers, env, ports, volumes) are addressed by it, so inserting one does not
/// show every later item as changed; other lists by index.
public enum FieldDiff {
    /// A manifest's tree: scalars as their text, mappings in order.
    public indirect enum Tree: Hashable, Sendable {
        case scalar(String)
        case list([Tree])
        case map([Field])

        public struct Field: Hashable, Sendable {
            public var key: String
            public var value: Tree
            public init(_ key: String, _ value: Tree) {
                self.key = key
                self.value = value
            }
        }

        /// A parsed YAML or JSON document as a tree (null as `null`).
        public init(_ node: Node) {
            self = Self.build(node)
        }

        /// Iterative: a manifest nested deeper than a stack allows is still read.
        private static func build(_ root: Node) -> Tree {
            // Post-order over an explicit stack: children are built before their parent.
            enum Step { case enter(Node), leaveList(Int), leaveMap([String]) }
            var steps: [Step] = [.enter(root)]
            var built: [Tree] = []
            while let step = steps.popLast() {
                switch step {
                case .enter(let node):
                    switch node.value {
                    case .scalar(let s): built.append(.scalar(node.isNull ? "null" : s.text))
                    case .sequence(let items):
                        steps.append(.leaveList(items.count))
                        for item in items.reversed() { steps.append(.enter(item)) }
                    case .mapping(let pairs):
                        steps.append(.leaveMap(pairs.map { $0.key.string ?? "?" }))
                        for pair in pairs.reversed() { steps.append(.enter(pair.value)) }
                    }
                case .leaveList(let count):
                    let items = Array(built.suffix(count))
                    built.removeLast(count)
                    built.append(.list(items))
                case .leaveMap(let keys):
                    let values = Array(built.suffix(keys.count))
                    built.removeLast(keys.count)
                    built.append(.map(zip(keys, values).map { Field($0, $1) }))
                }
            }
            return built.first ?? .scalar("null")
        }
    }

    /// Every scalar of `tree` by its path, in document order.
    public static func flatten(_ tree: Tree) -> [(path: String, value: String)] {
        var out: [(path: String, value: String)] = []
        var pending: [(String, Tree)] = [("", tree)]
        while let (path, node) = pending.popLast() {
            switch node {
            case .scalar(let text): out.append((path, text))
            case .map(let fields):
                if fields.isEmpty { out.append((path, "{}")) }
                for field in fields.reversed() { pending.append((path.isEmpty ? field.key : path + "." + field.key, field.value)) }
            case .list(let items):
                if items.isEmpty { out.append((path, "[]")) }
                let keys = itemKeys(items)
                for (i, item) in items.enumerated().reversed() { pending.append((path + "[" + (keys?[i] ?? String(i)) + "]", item)) }
            }
        }
        return out
    }

    /// `name=<value>` for each item when every item is a mapping with a distinct scalar `name`.
    static func itemKeys(_ items: [Tree]) -> [String]? {
        var keys: [String] = []
        for item in items {
            guard case .map(let fields) = item, let name = fields.first(where: { $0.key == "name" }), case .scalar(let value) = name.value else { return nil }
            keys.append("name=" + value)
        }
        return Set(keys).count == keys.count ? keys : nil
    }

    /// The changed fields between two versions of one object: `path: old → new`, `+ path: new`,
    /// `- path: old`; values longer than `width` characters are cut.
    public static func lines(before: Tree, after: Tree, width: Int = 120) -> [String] {
        let old = flatten(before), new = flatten(after)
        let oldValues = Dictionary(old.map { ($0.path, $0.value) }, uniquingKeysWith: { a, _ in a })
        let newValues = Dictionary(new.map { ($0.path, $0.value) }, uniquingKeysWith: { a, _ in a })
        func cut(_ s: String) -> String { s.count <= width ? s : String(s.prefix(width - 1)) + "…" }
        var out: [String] = []
        for (path, value) in old where newValues[path] == nil { out.append("- \(path): \(cut(value))") }
        for (path, value) in new {
            switch oldValues[path] {
            case nil: out.append("+ \(path): \(cut(value))")
            case let was? where was != value: out.append("~ \(path): \(cut(was)) → \(cut(value))")
            default: continue
            }
        }
        return out
    }
}
