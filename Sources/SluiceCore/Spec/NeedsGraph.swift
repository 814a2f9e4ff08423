/// The `needs` relation between stages: ordering and cycle detection.
public struct NeedsGraph: Sendable {
    public let names: [String]
    public let needs: [String: [String]]

    public init(stages: [StageSpec]) {
        names = stages.map(\.name)
        needs = Dictionary(stages.map { ($0.name, $0.needs) }, uniquingKeysWith: { a, _ in a })
    }

    /// Every elementary cycle reachable by depth-first search, each as a path that
    /// ends where it started (`[a, b, c, a]`), reported once, in file order.
    public func cycles() -> [[String]] {
        enum Mark { case visiting, done }
        var marks: [String: Mark] = [:]
        var stack: [String] = []
        var found: [[String]] = []
        var seenCycles = Set<Set<String>>()

        func visit(_ name: String) {
            marks[name] = .visiting
            stack.append(name)
            for next in needs[name] ?? [] where needs[next] != nil {
                switch marks[next] {
                case .visiting:
                    let start = stack.lastIndex(of: next)!
                    let cycle = Array(stack[start...]) + [next]
                    if seenCycles.insert(Set(cycle)).inserted { found.append(cycle) }
                case .done: continue
                case nil: visit(next)
                }
            }
            stack.removeLast()
            marks[name] = .done
        }
        for name in names where marks[name] == nil { visit(name) }
        return found
    }

    /// Stages ordered so that each comes after everything it needs; file order breaks ties.
    /// Only meaningful for an acyclic graph (a decoded `PipelineSpec` always is).
    public func topologicalOrder() -> [String] {
        var placed = Set<String>()
        var order: [String] = []
        while order.count < names.count {
            guard let next = names.first(where: { name in
                !placed.contains(name) && (needs[name] ?? []).allSatisfy { placed.contains($0) || needs[$0] == nil }
            }) else { break }
            placed.insert(next)
            order.append(next)
        }
        return order
    }

    /// All stages that `name` needs, directly or transitively.
    public func ancestors(of name: String) -> Set<String> {
        var result = Set<String>()
        var queue = needs[name] ?? []
        while let next = queue.popLast() {
            if result.insert(next).inserted { queue += needs[next] ?? [] }
        }
        return result
    }
}
