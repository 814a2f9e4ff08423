#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Counts of each distinct value of a categorical column. Values are looked up by their
/// bytes in an open-addressing table over one flat byte store, so the per-row path builds
/// no String and allocates nothing once a value has been seen.
public struct CategoryCounts: Sendable {
    public private(set) var names: [String] = []
    public private(set) var counts: [Int] = []
    /// More distinct values than `limit` (an id or free-text column): new values are no
    /// longer counted, and the column is left out of drift tests.
    public private(set) var overflowed = false
    public static let limit = 100_000

    /// Every distinct value's bytes, back to back; value i is bytes[offsets[i]..<offsets[i + 1]].
    private var bytes: [UInt8] = []
    private var offsets: [Int] = [0]
    /// Per value: its hash, and its bytes as two words (see `ByteKey`), so a lookup compares
    /// numbers and calls memcmp only for a value longer than sixteen bytes that matches.
    private var hashes: [UInt64] = []
    private var keys: [ByteKey] = []
    /// Slots hold index + 1 of a value (0: empty); the table is kept at most half full.
    private var slots = [Int32](repeating: 0, count: 16)
    /// Seeded: a file crafted to collide in a fixed hash would make counting quadratic.
    private let hasher = ByteHasher()

    public init() {}

    public var total: Int { counts.reduce(0, +) }

    /// Adds one occurrence; returns the category's index, or -1 once `overflowed`.
    @discardableResult
    public mutating func add(_ value: UnsafeBufferPointer<UInt8>) -> Int {
        let mask = slots.count - 1
        let key = ByteKey(value)
        let h = hasher.hash(value, key)
        var slot = Int(truncatingIfNeeded: h) & mask
        while true {
            let entry = Int(slots[slot])
            if entry == 0 { break }
            let i = entry - 1
            if keys[i] == key, value.count <= 16 || hashes[i] == h && same(value, at: offsets[i]) {
                counts[i] += 1
                return i
            }
            slot = (slot + 1) & mask
        }
        if names.count >= Self.limit {
            overflowed = true
            return -1
        }
        let index = names.count
        names.append(String(decoding: value, as: UTF8.self))
        counts.append(1)
        bytes.append(contentsOf: value)
        offsets.append(bytes.count)
        hashes.append(h)
        keys.append(key)
        slots[slot] = Int32(index + 1)
        if names.count * 2 > slots.count { grow() }
        return index
    }

    public func count(of name: String) -> Int {
        var text = name
        return text.withUTF8 { value in
            let key = ByteKey(value)
            let h = hasher.hash(value, key)
            var slot = Int(truncatingIfNeeded: h) & (slots.count - 1)
            while slots[slot] != 0 {
                let i = Int(slots[slot]) - 1
                if keys[i] == key, value.count <= 16 || hashes[i] == h && same(value, at: offsets[i]) { return counts[i] }
                slot = (slot + 1) & (slots.count - 1)
            }
            return 0
        }
    }

    private func same(_ value: UnsafeBufferPointer<UInt8>, at start: Int) -> Bool {
        guard let p = value.baseAddress, value.count > 0 else { return true }
        return bytes.withUnsafeBufferPointer { memcmp($0.baseAddress! + start, p, value.count) == 0 }
    }

    private mutating func grow() {
        var table = [Int32](repeating: 0, count: slots.count * 2)
        let mask = table.count - 1
        for i in names.indices {
            var slot = Int(truncatingIfNeeded: hashes[i]) & mask
            while table[slot] != 0 { slot = (slot + 1) & mask }
            table[slot] = Int32(i + 1)
        }
        slots = table
    }
}
