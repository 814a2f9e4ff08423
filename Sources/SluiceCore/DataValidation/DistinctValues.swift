/// The values of a `unique` column seen so far, by their bytes, so the per-row check builds no
/// String and hashes no Unicode. Values of up to eight bytes (ids, codes) are one word each in
/// an open-addressing table; longer ones are kept back to back in one byte store, with a table
/// of their hashes (seeded, see `ByteHasher`).
final class DistinctValues {
    private let hasher: ByteHasher
    private var short = Table()
    /// Packed words of the short values, and their length plus one (0: an empty slot).
    private var words = UnsafeMutablePointer<UInt64>.allocate(capacity: 16)
    private var lengths = UnsafeMutablePointer<UInt8>.allocate(capacity: 16)

    private var long = Table()
    /// Per slot: the value's index + 1 (0: empty).
    private var entries = UnsafeMutablePointer<Int>.allocate(capacity: 16)
    private var hashes: [UInt64] = []
    /// Value i is bytes[starts[i] ..< starts[i + 1]].
    private var starts: [Int] = [0]
    private var bytes: [UInt8] = []

    private struct Table {
        var capacity = 16
        var count = 0
        var mask: Int { capacity - 1 }
    }

    init(seed: UInt64 = .random(in: .min ... .max)) {
        hasher = ByteHasher(seed: seed)
        lengths.initialize(repeating: 0, count: 16)
        entries.initialize(repeating: 0, count: 16)
    }

    deinit {
        words.deallocate()
        lengths.deallocate()
        entries.deallocate()
    }

    /// Remembers `value`; false when it was seen before.
    func insert(_ value: UnsafeBufferPointer<UInt8>) -> Bool {
        value.count <= 8 ? insertShort(value.baseAddress.map { ByteKey.packed($0, value.count) } ?? 0, length: UInt8(value.count) + 1) : insertLong(value)
    }

    private func insertShort(_ word: UInt64, length: UInt8) -> Bool {
        var slot = Int(truncatingIfNeeded: hasher.mix(word &+ UInt64(length))) & short.mask
        while lengths[slot] != 0 {
            if words[slot] == word, lengths[slot] == length { return false }
            slot = (slot + 1) & short.mask
        }
        words[slot] = word
        lengths[slot] = length
        short.count += 1
        if short.count * 2 > short.capacity { growShort() }
        return true
    }

    private func growShort() {
        let (oldWords, oldLengths, oldCapacity) = (words, lengths, short.capacity)
        short.capacity *= 2
        words = .allocate(capacity: short.capacity)
        lengths = .allocate(capacity: short.capacity)
        lengths.initialize(repeating: 0, count: short.capacity)
        for i in 0..<oldCapacity where oldLengths[i] != 0 {
            var slot = Int(truncatingIfNeeded: hasher.mix(oldWords[i] &+ UInt64(oldLengths[i]))) & short.mask
            while lengths[slot] != 0 { slot = (slot + 1) & short.mask }
            words[slot] = oldWords[i]
            lengths[slot] = oldLengths[i]
        }
        oldWords.deallocate()
        oldLengths.deallocate()
    }

    private func insertLong(_ value: UnsafeBufferPointer<UInt8>) -> Bool {
        let h = hasher.hash(value, ByteKey(value))
        var slot = Int(truncatingIfNeeded: h) & long.mask
        while entries[slot] != 0 {
            let i = entries[slot] - 1
            if hashes[i] == h, starts[i + 1] - starts[i] == value.count,
               bytes[starts[i]..<starts[i + 1]].elementsEqual(value) {
                return false
            }
            slot = (slot + 1) & long.mask
        }
        bytes.append(contentsOf: value)
        starts.append(bytes.count)
        hashes.append(h)
        entries[slot] = hashes.count
        long.count += 1
        if long.count * 2 > long.capacity { growLong() }
        return true
    }

    private func growLong() {
        let (old, oldCapacity) = (entries, long.capacity)
        long.capacity *= 2
        entries = .allocate(capacity: long.capacity)
        entries.initialize(repeating: 0, count: long.capacity)
        for i in 0..<oldCapacity where old[i] != 0 {
            var slot = Int(truncatingIfNeeded: hashes[old[i] - 1]) & long.mask
            while entries[slot] != 0 { slot = (slot + 1) & long.mask }
            entries[slot] = old[i]
        }
        old.deallocate()
    }
}
