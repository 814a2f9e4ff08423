/// Counts of each distinct value of a numeric column while it has few (integers, prices,
/// ratings, rounded measurements): the exact sample is then sorted by sorting the distinct
/// values and writing each as often as it was seen, one pass instead of a radix sort's six.
/// Gives up for good past `limit` distinct values (continuous data does so within its first
/// few thousand values).
struct ValueCounts: Sendable {
    static let limit = 2048
    /// Open addressing on the bit pattern (-0.0 and 0.0 are two keys; no NaN reaches a sample).
    private var keys = [UInt64](repeating: 0, count: 64)
    private var counts = [Int](repeating: 0, count: 64)
    private var used = 0
    private(set) var overflowed = false

    /// Counts `values`, until there are more than `limit` distinct values (`overflowed`).
    mutating func add(_ values: UnsafeBufferPointer<Double>) {
        guard !overflowed else { return }
        for x in values {
            // Keys are stored plus one so that 0 marks an empty slot (the bit pattern of 0.0 is 0).
            let key = x.bitPattern &+ 1
            var slot = Self.slot(key, keys.count)
            while keys[slot] != key, keys[slot] != 0 { slot = (slot + 1) & (keys.count - 1) }
            if keys[slot] == 0 {
                guard used < Self.limit else {
                    overflowed = true
                    keys = []
                    counts = []
                    return
                }
                keys[slot] = key
                used += 1
                if used * 2 > keys.count {
                    counts[slot] += 1
                    grow()
                    continue
                }
            }
            counts[slot] += 1
        }
    }

    /// Overwrites `values` (the values counted, in any order) with the same values in ascending
    /// order, in place; false (and `values` untouched) if the counts are not of `values`.
    func sort(_ values: inout [Double]) -> Bool {
        guard !overflowed, counts.reduce(0, +) == values.count else { return false }
        var distinct: [(value: Double, count: Int)] = []
        distinct.reserveCapacity(used)
        for (key, count) in zip(keys, counts) where key != 0 { distinct.append((Double(bitPattern: key &- 1), count)) }
        // Equal values (-0.0 and 0.0) by bit pattern, as the radix sort orders them.
        distinct.sort { $0.value < $1.value || ($0.value == $1.value && $0.value.sign == .minus && $1.value.sign == .plus) }
        values.withUnsafeMutableBufferPointer { out in
            var i = 0
            for (value, count) in distinct {
                for k in i..<(i + count) { out[k] = value }
                i += count
            }
        }
        return true
    }

    @inline(__always)
    private static func slot(_ key: UInt64, _ capacity: Int) -> Int {
        // Fibonacci hashing: the high bits of the product depend on every bit of the key.
        Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> UInt64(64 - capacity.trailingZeroBitCount))
    }

    private mutating func grow() {
        let (oldKeys, oldCounts) = (keys, counts)
        keys = [UInt64](repeating: 0, count: oldKeys.count * 2)
        counts = [Int](repeating: 0, count: oldKeys.count * 2)
        for (key, count) in zip(oldKeys, oldCounts) where key != 0 {
            var slot = Self.slot(key, keys.count)
            while keys[slot] != 0 { slot = (slot + 1) & (keys.count - 1) }
            keys[slot] = key
            counts[slot] = count
        }
    }
}
