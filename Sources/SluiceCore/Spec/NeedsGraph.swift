/// The `needs` relation between stages: ordering and cycle detection.
/// Iterative throughout, so a 20,000-stage chain cannot overflow the stack.
public struct NeedsGraph: Sendable {
    public let names: [String]
    public let needs: [String: [String]]

    public init(stages: [StageSpec]) {
        self.init(names: stages.map(\.name), needs: Dictionary(stages.map { ($0.name, $0.needs) }, uniquingKeysWith: { a, _ in a }))
    }

    public init(names: [String], needs: [String: [String]]) {
        self.names = names
        self.needs = needs
    }

    /// Every cycle found by depth-first search, each as a path that ends where it
    /// started (`[a, b, c, a]`), reported once, in file order.
    public func cycles() -> [[String]] {
        // Stages by position, needs as positions: a 20,000-stage spec would otherwise hash
        // names at every step of the walk.
        let index = Dictionary(names.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
        let edges = names.map { name in (needs[name] ?? []).compactMap { index[$0] } }
        enum Mark { case unseen, visiting, done }
        var marks = [Mark](repeating: .unseen, count: names.count)
        var found: [[String]] = []
        var seenCycles = Set<Set<Int>>()

        for root in names.indices where marks[root] == .unseen {
            // Each frame: a stage and the index of the next need to look at.
            var stack: [(stage: Int, next: Int)] = [(root, 0)]
            var onPath: [Int] = [root]
            marks[root] = .visiting
            while let top = stack.last {
                if top.next >= edges[top.stage].count {
                    marks[top.stage] = .done
                    stack.removeLast()
                    onPath.removeLast()
                    continue
                }
                stack[stack.count - 1].next += 1
                let next = edges[top.stage][top.next]
                switch marks[next] {
                case .visiting:
                    guard let start = onPath.lastIndex(of: next) else { continue }
                    let cycle = Array(onPath[start...]) + [next]
                    if seenCycles.insert(Set(cycle)).inserted { found.append(cycle.map { names[$0] }) }
                case .done:
                    continue
                case .unseen:
                    marks[next] = .visiting
                    stack.append((next, 0))
                    onPath.append(next)
                }
            }
        }
        return found
    }

    /// Stages ordered so that each comes after everything it needs; among stages that
    /// are ready at the same time, file order wins. Stages in a cycle are left out.
    public func topologicalOrder() -> [String] {
        let index = Dictionary(names.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
        var waitingOn = [Int](repeating: 0, count: names.count)
        var dependents = [[Int]](repeating: [], count: names.count)
        for (i, name) in names.enumerated() {
            for need in Set(needs[name] ?? []) {
                guard let j = index[need] else { continue }
                waitingOn[i] += 1
                dependents[j].append(i)
            }
        }
        // A min-heap on file position keeps the order stable and the sort O(n log n).
        var ready = Heap(names.indices.filter { waitingOn[$0] == 0 })
        var order: [String] = []
        order.reserveCapacity(names.count)
        while let i = ready.popMin() {
            order.append(names[i])
            for d in dependents[i] {
                waitingOn[d] -= 1
                if waitingOn[d] == 0 { ready.insert(d) }
            }
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

/// A small binary min-heap of Ints.
struct Heap {
    private var items: [Int] = []

    init(_ values: [Int]) { for v in values { insert(v) } }

    mutating func insert(_ value: Int) {
        items.append(value)
        var i = items.count - 1
        while i > 0, items[(i - 1) / 2] > items[i] {
            items.swapAt(i, (i - 1) / 2)
            i = (i - 1) / 2
        }
    }

    mutating func popMin() -> Int? {
        guard !items.isEmpty else { return nil }
        items.swapAt(0, items.count - 1)
        let min = items.removeLast()
        var i = 0
        while true {
            let l = 2 * i + 1, r = l + 1
            var smallest = i
            if l < items.count, items[l] < items[smallest] { smallest = l }
            if r < items.count, items[r] < items[smallest] { smallest = r }
            if smallest == i { break }
            items.swapAt(i, smallest)
            i = smallest
        }
        return min
    }
}
