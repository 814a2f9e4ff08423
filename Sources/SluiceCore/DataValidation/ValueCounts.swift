/// Counts of each distinct value of a numeric column while it has few (integers, prices,
/// ratings, rounded measurements). Such a column needs neither its values kept nor a sort:
/// its distinct values and their counts (`SortedRuns`) are the exact sample, whatever the
/// number of rows. Gives up for good past `limit` distinct values (continuous data does so
/// within its first few thousand values).
struct ValueCounts: Sendable {
    static let limit = 2048
    /// Open addressing on the bit pattern (-0.0 and 0.0 are two keys; no NaN reaches a sample).
    /// Slot s is table[2s] (the key plus one, so that 0 marks an empty slot: the bit pattern of
    /// 0.0 is 0) and table[2s + 1] (its count): a lookup touches one cache line.
    private var table = [UInt64](repeating: 0, count: 2 * 64)
    private var capacity = 64
    private var used = 0
    private var overflowed = false
    /// The number of values counted.
    private(set) var total = 0

    /// Counts values from the start of `values` until one would be more than `limit` distinct
    /// values (`overflowed`); returns how many were counted (all of them unless it overflowed).
    mutating func add(_ values: UnsafeBufferPointer<Double>) -> Int {
        guard !overflowed else { return 0 }
        var done = 0
        defer { total += done }
        while done < values.count {
            // One pass over the table's memory until the table must grow (or cannot).
            let (reached, full) = countUntilFull(values, from: done)
            done = reached
            guard full else { break }
            if used == Self.limit {
                overflowed = true
                return done
            }
            grow()
        }
        return done
    }

    /// Counts from `start` on; stops before a new value when the table is half full. Returns
    /// where it stopped and whether it stopped for room.
    @inline(__always)
    private mutating func countUntilFull(_ values: UnsafeBufferPointer<Double>, from start: Int) -> (Int, Bool) {
        let shift = UInt64(64 - capacity.trailingZeroBitCount)
        let mask = capacity - 1
        var used = self.used
        let room = min(capacity / 2, Self.limit)
        let result = table.withUnsafeMutableBufferPointer { slots -> (Int, Bool) in
            var i = start
            while i < values.count {
                let key = values[i].bitPattern &+ 1
                var slot = Self.slot(key, shift)
                while slots[2 * slot] != key, slots[2 * slot] != 0 { slot = (slot + 1) & mask }
                if slots[2 * slot] == 0 {
                    if used == room { return (i, true) }
                    slots[2 * slot] = key
                    used += 1
                }
                slots[2 * slot + 1] &+= 1
                i += 1
            }
            return (i, false)
        }
        self.used = used
        return result
    }

    /// Appends each value counted as often as it was counted, in no particular order.
    func appendValues(to values: inout [Double]) {
        for s in 0..<capacity where table[2 * s] != 0 {
            values.append(contentsOf: repeatElement(Double(bitPattern: table[2 * s] &- 1), count: Int(truncatingIfNeeded: table[2 * s + 1])))
        }
    }

    /// The distinct values counted, ascending, with their counts (before it overflowed, if it did).
    func runs() -> SortedRuns {
        // Sorted as unsigned keys that keep the order of doubles (negatives flip every bit, the
        // others the sign bit; -0.0 comes before 0.0, as in the radix sort), then each key's
        // count found again in the table: cheaper than sorting (value, count) pairs by a closure.
        var ordered: [UInt64] = []
        ordered.reserveCapacity(used)
        for s in 0..<capacity where table[2 * s] != 0 {
            let bits = table[2 * s] &- 1
            ordered.append(bits & (1 << 63) != 0 ? ~bits : bits | (1 << 63))
        }
        ordered.sort()
        let shift = UInt64(64 - capacity.trailingZeroBitCount)
        return SortedRuns(ordered.map { ordered in
            let bits = ordered & (1 << 63) != 0 ? ordered & ~(1 << 63) : ~ordered
            var slot = Self.slot(bits &+ 1, shift)
            while table[2 * slot] != bits &+ 1 { slot = (slot + 1) & (capacity - 1) }
            return (Double(bitPattern: bits), Int(truncatingIfNeeded: table[2 * slot + 1]))
        })
    }

    @inline(__always)
    private static func slot(_ key: UInt64, _ shift: UInt64) -> Int {
        // Fibonacci hashing: the high bits of the product depend on every bit of the key.
        Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> shift)
    }

    private mutating func grow() {
        let old = table
        capacity *= 2
        table = [UInt64](repeating: 0, count: 2 * capacity)
        let shift = UInt64(64 - capacity.trailingZeroBitCount)
        for s in 0..<(old.count / 2) where old[2 * s] != 0 {
            var slot = Self.slot(old[2 * s], shift)
            while table[2 * slot] != 0 { slot = (slot + 1) & (capacity - 1) }
            table[2 * slot] = old[2 * s]
            table[2 * slot + 1] = old[2 * s + 1]
        }
    }
}

/// A sorted sample held as its distinct values and how many values are at or below each:
/// the same answers as the sorted array of every value, in memory of the distinct ones.
struct SortedRuns: Sendable {
    /// The distinct values, ascending.
    private(set) var values: [Double] = []
    /// cumulative[i]: the number of values <= values[i].
    private(set) var cumulative: [Int] = []

    init() {}

    init(_ distinct: [(value: Double, count: Int)]) {
        values.reserveCapacity(distinct.count)
        cumulative.reserveCapacity(distinct.count)
        var total = 0
        for (value, count) in distinct {
            total += count
            values.append(value)
            cumulative.append(total)
        }
    }

    var count: Int { cumulative.last ?? 0 }

    /// The k-th smallest value (0-based), as the sorted array's element k.
    func element(at k: Int) -> Double {
        var lo = 0, hi = cumulative.count - 1
        while lo < hi {
            let mid = (lo + hi) / 2
            if cumulative[mid] > k { hi = mid } else { lo = mid + 1 }
        }
        return values[lo]
    }

    /// The number of values <= x.
    func countAtOrBelow(_ x: Double) -> Int {
        let i = NumericSample.upperBound(values, x)
        return i == 0 ? 0 : cumulative[i - 1]
    }

    /// Every value, ascending (each distinct value as often as it was seen).
    func expanded() -> [Double] {
        var all: [Double] = []
        all.reserveCapacity(count)
        var previous = 0
        for (value, upTo) in zip(values, cumulative) {
            all.append(contentsOf: repeatElement(value, count: upTo - previous))
            previous = upTo
        }
        return all
    }
}
