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
    /// Values of up to eight bytes as one word each (compared without memcmp), else 0.
    private var words: [UInt64] = []
    /// Slots hold index + 1 of a value (0: empty); the table is kept at most half full.
    private var slots = [Int32](repeating: 0, count: 16)

    public init() {}

    public var total: Int { counts.reduce(0, +) }

    /// Adds one occurrence; returns the category's index, or -1 once `overflowed`.
    @discardableResult
    public mutating func add(_ value: UnsafeBufferPointer<UInt8>) -> Int {
        let mask = slots.count - 1
        let word = Self.word(value)
        var slot = Self.hash(value, word) & mask
        while true {
            let entry = Int(slots[slot])
            if entry == 0 { break }
            let i = entry - 1
            let start = offsets[i], length = offsets[i + 1] - start
            if length == value.count, length <= 8 ? words[i] == word : same(value, at: start) {
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
        words.append(word)
        slots[slot] = Int32(index + 1)
        if names.count * 2 > slots.count { grow() }
        return index
    }

    public func count(of name: String) -> Int {
        var text = name
        return text.withUTF8 { value in
            var slot = Self.hash(value, Self.word(value)) & (slots.count - 1)
            while slots[slot] != 0 {
                let i = Int(slots[slot]) - 1
                if offsets[i + 1] - offsets[i] == value.count, same(value, at: offsets[i]) { return counts[i] }
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
        bytes.withUnsafeBufferPointer { all in
            for i in names.indices {
                let value = UnsafeBufferPointer(rebasing: all[offsets[i]..<offsets[i + 1]])
                var slot = Self.hash(value, words[i]) & mask
                while table[slot] != 0 { slot = (slot + 1) & mask }
                table[slot] = Int32(i + 1)
            }
        }
        slots = table
    }

    /// A value of up to eight bytes packed into a word (0 for longer ones): short values
    /// are compared and hashed as this one number.
    @inline(__always)
    static func word(_ value: UnsafeBufferPointer<UInt8>) -> UInt64 {
        guard let p = value.baseAddress, value.count <= 8 else { return 0 }
        let raw = UnsafeRawPointer(p)
        switch value.count {
        case 4...8:
            let low = UInt64(UInt32(littleEndian: raw.loadUnaligned(as: UInt32.self)))
            let high = UInt64(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: value.count - 4, as: UInt32.self)))
            return low | high << (8 * (value.count - 4))
        default:
            var w: UInt64 = 0
            for k in 0..<value.count { w |= UInt64(p[k]) << (8 * k) }
            return w
        }
    }

    /// A multiplicative hash: of the packed word for short values, else eight bytes at a time.
    @inline(__always)
    static func hash(_ value: UnsafeBufferPointer<UInt8>, _ word: UInt64) -> Int {
        var h = (UInt64(truncatingIfNeeded: value.count) &* 0x9E37_79B9_7F4A_7C15 ^ word) &* 0xFF51_AFD7_ED55_8CCD
        if value.count > 8, let p = value.baseAddress {
            let raw = UnsafeRawPointer(p)
            var i = 0
            while i + 8 <= value.count {
                h = (h ^ raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)) &* 0xFF51_AFD7_ED55_8CCD
                i += 8
            }
            h = (h ^ raw.loadUnaligned(fromByteOffset: value.count - 8, as: UInt64.self)) &* 0xFF51_AFD7_ED55_8CCD
        }
        return Int(truncatingIfNeeded: (h ^ (h >> 29)) >> 1)
    }
}
