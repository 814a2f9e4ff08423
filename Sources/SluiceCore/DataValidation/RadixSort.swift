/// Sorts doubles (no NaNs) by their bit patterns, 16 bits at a time from the least
/// significant: four linear passes (fewer when a digit is the same for every value)
/// instead of n log n comparisons, several times faster than the standard sort for the
/// million-value columns drift statistics need. (11-bit digits measured slower here.)
enum RadixSort {
    static func sort(_ values: inout [Double]) {
        let n = values.count
        guard n > 64 else { values.sort(); return }
        // Order-preserving map to unsigned: negative numbers flip all bits, others the sign bit.
        var keys = [UInt64](unsafeUninitializedCapacity: n) { buffer, count in
            for i in 0..<n {
                let bits = values[i].bitPattern
                buffer[i] = bits & (1 << 63) != 0 ? ~bits : bits | (1 << 63)
            }
            count = n
        }
        var scratch = [UInt64](repeating: 0, count: n)
        var counts = [Int](repeating: 0, count: 1 << 16)
        for pass in 0..<4 {
            let shift = UInt64(pass * 16)
            var trivial = false
            keys.withUnsafeBufferPointer { src in
                scratch.withUnsafeMutableBufferPointer { dst in
                    counts.withUnsafeMutableBufferPointer { c in
                        for i in 0..<c.count { c[i] = 0 }
                        for k in src { c[Int((k >> shift) & 0xFFFF)] += 1 }
                        if c[Int((src[0] >> shift) & 0xFFFF)] == n { trivial = true; return }  // one digit: nothing moves
                        var total = 0
                        for i in 0..<c.count {
                            let v = c[i]
                            c[i] = total
                            total += v
                        }
                        for k in src {
                            let d = Int((k >> shift) & 0xFFFF)
                            dst[c[d]] = k
                            c[d] += 1
                        }
                    }
                }
            }
            if !trivial { swap(&keys, &scratch) }
        }
        for i in 0..<n {
            let k = keys[i]
            values[i] = Double(bitPattern: k & (1 << 63) != 0 ? k & ~(1 << 63) : ~k)
        }
    }
}
