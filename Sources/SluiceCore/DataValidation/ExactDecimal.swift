/// Decimals of 16 to 19 significant digits (the shortest round-trip text numeric writers
/// produce, such as pandas' `0.12345678901234568`) converted exactly, without strtod: the
/// mantissa times or divided by a power of ten in 128-bit integer arithmetic, then rounded
/// once to 53 bits (to nearest, ties to even) from the exact quotient and remainder.
enum ExactDecimal {
    /// 10^e for 0 <= e <= 19, every one an exact UInt64.
    @inline(__always)
    private static func powerOfTen(_ e: Int) -> UInt64 {
        let table: [UInt64] = [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000, 1_000_000_000,
                               10_000_000_000, 100_000_000_000, 1_000_000_000_000, 10_000_000_000_000,
                               100_000_000_000_000, 1_000_000_000_000_000, 10_000_000_000_000_000,
                               100_000_000_000_000_000, 1_000_000_000_000_000_000, 10_000_000_000_000_000_000]
        return table[e]
    }

    /// mantissa · 10^power correctly rounded, for -19 <= power <= 19; nil outside that range.
    static func value(_ mantissa: UInt64, power: Int) -> Double? {
        guard power >= -19, power <= 19 else { return nil }
        if mantissa == 0 { return 0 }
        if power >= 0 {
            // The product is exact in 128 bits (both factors are below 2^64).
            let (high, low) = mantissa.multipliedFullWidth(by: powerOfTen(power))
            if high == 0 { return rounded(low, exponent: 0, sticky: false) }
            let shift = high.leadingZeroBitCount
            let top = shift == 0 ? high : high << shift | low >> (64 - shift)
            return rounded(top, exponent: 64 - shift, sticky: low << shift != 0)
        }
        // The quotient of mantissa · 2^s by 10^-power, with s chosen so that it has 63 or 64
        // bits; the remainder says whether anything is below its last bit.
        let divisor = powerOfTen(-power)
        let s = 63 + (64 - divisor.leadingZeroBitCount) - (64 - mantissa.leadingZeroBitCount)
        let numerator: (high: UInt64, low: UInt64.Magnitude) = s >= 64
            ? (mantissa << (s - 64), 0)
            : (s == 0 ? 0 : mantissa >> (64 - s), mantissa << s)
        let (quotient, remainder) = divisor.dividingFullWidth(numerator)
        return rounded(quotient, exponent: -s, sticky: remainder != 0)
    }

    /// value · 2^exponent rounded to a Double, to nearest and ties to even; `sticky`: the exact
    /// value is a little more than `value` (bits below its last one are not all zero).
    @inline(__always)
    private static func rounded(_ value: UInt64, exponent: Int, sticky: Bool) -> Double {
        let bits = 64 - value.leadingZeroBitCount
        guard bits > 53 else {
            // Fits: exact, unless bits were cut below it. Those only arise with a full-width
            // quotient or product, which always has more than 53 bits.
            return Double(sign: .plus, exponent: exponent, significand: Double(value))
        }
        let cut = bits - 53
        var significand = value >> cut
        let rest = value & (1 << cut - 1)
        let half: UInt64 = 1 << (cut - 1)
        if rest > half || (rest == half && (sticky || significand & 1 == 1)) { significand += 1 }
        return Double(sign: .plus, exponent: exponent + cut, significand: Double(significand))
    }
}
