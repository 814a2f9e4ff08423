/// A params file's values as flat, dotted names (`train.C` → `1.0`, lists by index:
/// `layers.0`), the way DVC and MLflow show parameters. The file comes from a repository,
/// so the walk is iterative and bounded in depth and count.
public enum ParamValues {
    public struct Flat: Hashable, Sendable {
        public var values: [String: String] = [:]
        /// Set when the limits left values out.
        public var truncated = false
    }

    public static func flatten(_ node: Node, prefix: String, limit: Int = 1000, maxDepth: Int = 32) -> Flat {
        var flat = Flat()
        var pending: [(name: String, node: Node, depth: Int)] = [(prefix, node, 0)]
        while let (name, node, depth) = pending.popLast() {
            switch node.value {
            case .scalar(let s):
                guard flat.values.count < limit else { flat.truncated = true; continue }
                flat.values[name.isEmpty ? "value" : name] = node.isNull ? "null" : s.text
            case .mapping(let pairs):
                guard depth < maxDepth else { flat.truncated = true; continue }
                for pair in pairs.reversed() {
                    guard case .scalar(let key) = pair.key.value else { flat.truncated = true; continue }
                    pending.append((name.isEmpty ? key.text : name + "." + key.text, pair.value, depth + 1))
                }
            case .sequence(let items):
                guard depth < maxDepth else { flat.truncated = true; continue }
                for (i, item) in items.enumerated().reversed() {
                    pending.append((name.isEmpty ? String(i) : name + "." + String(i), item, depth + 1))
                }
            }
        }
        return flat
    }
}
