/// A value's length and up to sixteen of its bytes as two words (the first eight and the last
/// eight, overlapping for nine to fifteen). Equal keys mean equal values up to sixteen bytes;
/// longer values with equal keys still need their bytes compared.
struct ByteKey: Equatable, Sendable {
    var head: UInt64
    var tail: UInt64
    var count: Int

    @inline(__always)
    init(_ value: UnsafeBufferPointer<UInt8>) {
        count = value.count
        guard let p = value.baseAddress, count > 0 else {
            head = 0
            tail = 0
            return
        }
        let raw = UnsafeRawPointer(p)
        if count >= 8 {
            head = UInt64(littleEndian: raw.loadUnaligned(as: UInt64.self))
            tail = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: count - 8, as: UInt64.self))
        } else {
            head = Self.packed(p, count)
            tail = 0
        }
    }

    /// Up to eight bytes in one word, the first in the lowest byte.
    @inline(__always)
    static func packed(_ p: UnsafePointer<UInt8>, _ n: Int) -> UInt64 {
        let raw = UnsafeRawPointer(p)
        switch n {
        case 4...8:
            let low = UInt64(UInt32(littleEndian: raw.loadUnaligned(as: UInt32.self)))
            let high = UInt64(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: n - 4, as: UInt32.self)))
            return low | high << (8 * (n - 4))
        default:
            var w: UInt64 = 0
            for k in 0..<n { w |= UInt64(p[k]) << (8 * k) }
            return w
        }
    }
}

/// A seeded hash of byte strings for the validator's tables. The seed is random per table:
/// data comes from repositories, and a file crafted to collide in a fixed hash would make a
/// table's lookups quadratic. Every input bit reaches the low bits the tables index by.
struct ByteHasher: Sendable {
    let seed: UInt64

    init(seed: UInt64 = .random(in: .min ... .max)) {
        self.seed = seed
    }

    @inline(__always)
    func mix(_ x: UInt64) -> UInt64 {
        var h = (x ^ seed) &* 0xFF51_AFD7_ED55_8CCD
        h ^= h >> 32
        h = h &* 0xC4CE_B9FE_1A85_EC53
        return h ^ (h >> 29)
    }

    /// The hash of a value whose key is `key`: the key alone up to sixteen bytes, else every
    /// eight bytes too.
    @inline(__always)
    func hash(_ value: UnsafeBufferPointer<UInt8>, _ key: ByteKey) -> UInt64 {
        // Up to eight bytes are all in the head (most categories): one mix.
        if key.count <= 8 { return mix(key.head ^ UInt64(truncatingIfNeeded: key.count) << 56) }
        var h = mix(key.head ^ mix(key.tail ^ UInt64(truncatingIfNeeded: key.count) << 56))
        if value.count > 16, let p = value.baseAddress {
            let raw = UnsafeRawPointer(p)
            var i = 8
            while i + 8 <= value.count - 8 {
                h = mix(h ^ raw.loadUnaligned(fromByteOffset: i, as: UInt64.self))
                i += 8
            }
        }
        return h
    }
}
