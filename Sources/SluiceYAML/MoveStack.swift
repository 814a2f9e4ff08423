/// A stack whose top elements leave as one array by moving, not copying: closing a YAML
/// collection hands its children to the new node without retaining and releasing each of
/// them once more (with `Array`, a slice copy plus `removeLast` did both).
final class MoveStack<Element> {
    private var base: UnsafeMutablePointer<Element>
    private var capacity: Int
    private(set) var count = 0

    init(capacity: Int = 256) {
        self.capacity = max(capacity, 1)
        base = .allocate(capacity: self.capacity)
    }

    deinit {
        base.deinitialize(count: count)
        base.deallocate()
    }

    func push(_ element: consuming Element) {
        if count == capacity {
            let larger = UnsafeMutablePointer<Element>.allocate(capacity: capacity * 2)
            larger.moveInitialize(from: base, count: count)
            base.deallocate()
            base = larger
            capacity *= 2
        }
        (base + count).initialize(to: element)
        count += 1
    }

    /// The elements from `start` to the top, in order; the stack keeps those below `start`.
    func popArray(from start: Int) -> [Element] {
        precondition(start >= 0 && start <= count, "MoveStack.popArray(from:) outside the stack")
        let n = count - start
        let moved = [Element](unsafeUninitializedCapacity: n) { buffer, initialized in
            if let target = buffer.baseAddress, n > 0 { target.moveInitialize(from: base + start, count: n) }
            initialized = n
        }
        count = start
        return moved
    }
}
