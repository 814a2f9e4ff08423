/// Reading field text as numbers and booleans without allocating for the common case.
enum FieldParsing {
    /// 10^e for 0 <= e <= 22, all exact in a Double. (A literal inside the function is a
    /// constant the compiler lays out statically; a static array would be a lazy global,
    /// checked on every read.)
    @inline(__always)
    private static func exactPowerOfTen(_ e: Int) -> Double {
        let table: [Double] = [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
                               1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22]
        return table[e]
    }

    /// Decimal text as a Double, correctly rounded: short mantissas take the exact
    /// fast path (Clinger), everything else goes through the standard library.
    /// (The common short shape is decided inline in the caller, so the division overlaps with
    /// the caller's work; every other shape is a call.)
    @inline(__always)
    static func double(_ b: UnsafeBufferPointer<UInt8>) -> Double? {
        guard let p = b.baseAddress, b.count > 0 else { return nil }
        let n = b.count
        // Signs are as likely as not in real data: read without a branch (a Bool's byte is 0 or 1).
        let negative = p[0] == UInt8(ascii: "-")
        let i = Int(unsafeBitCast(negative || p[0] == UInt8(ascii: "+"), to: UInt8.self))
        if n - i >= 4, n - i <= 8, let (mantissa, fractionDigits) = shortDecimal(p + i, n - i) {
            let magnitude = Double(mantissa) / exactPowerOfTen(fractionDigits)
            return Double(bitPattern: magnitude.bitPattern | UInt64(unsafeBitCast(negative, to: UInt8.self)) << 63)
        }
        return anyDecimal(b, from: i, negative: negative)
    }

    /// Every shape the eight-byte path does not take; `start` is past the sign. Up to 15
    /// significant digits with a power of ten up to 22 either way (long decimals, integers,
    /// scientific notation such as `-1.234567e-05`) are exact in one multiplication or
    /// division (Clinger); up to 19 digits with a power up to 19 either way go through
    /// `ExactDecimal`; longer mantissas and larger exponents take the C library's correctly
    /// rounded `strtod`.
    @inline(never)
    private static func anyDecimal(_ b: UnsafeBufferPointer<UInt8>, from start: Int, negative: Bool) -> Double? {
        guard let p = b.baseAddress else { return nil }
        let n = b.count
        var i = start
        var mantissa: UInt64 = 0
        while i < n {
            let d = p[i] &- 48
            if d >= 10 { break }
            mantissa = mantissa &* 10 &+ UInt64(d)
            i += 1
        }
        var digits = i - start
        var fractionDigits = 0
        if i < n, p[i] == UInt8(ascii: ".") {
            i += 1
            let fractionStart = i
            while i < n {
                let d = p[i] &- 48
                if d >= 10 { break }
                mantissa = mantissa &* 10 &+ UInt64(d)
                i += 1
            }
            fractionDigits = i - fractionStart
            digits += fractionDigits
        }
        guard digits > 0 else { return slow(b) }  // "inf", "nan"; "", "." and "-" are not numbers
        // Zeros before the first other digit are not significant ("0.000123" has three) and
        // leave the mantissa 0, so they cannot overflow it.
        var significant = digits
        var k = start
        while significant > 15, k < i, p[k] == UInt8(ascii: "0") || p[k] == UInt8(ascii: ".") {
            if p[k] == UInt8(ascii: "0") { significant -= 1 }
            k += 1
        }
        var exponent = 0
        if i < n, p[i] | 0x20 == UInt8(ascii: "e") {
            i += 1
            let negativeExponent = i < n && p[i] == UInt8(ascii: "-")
            if i < n, negativeExponent || p[i] == UInt8(ascii: "+") { i += 1 }
            let exponentStart = i
            while i < n {
                let d = p[i] &- 48
                if d >= 10 { break }
                if exponent < 100_000 { exponent = exponent * 10 + Int(d) }  // beyond, strtod decides
                i += 1
            }
            guard i > exponentStart else { return nil }
            if negativeExponent { exponent = -exponent }
        }
        guard i == n else { return nil }
        let power = exponent - fractionDigits
        if significant <= 15, power >= -22, power <= 22 {
            let value = power < 0 ? Double(mantissa) / exactPowerOfTen(-power) : Double(mantissa) * exactPowerOfTen(power)
            return negative ? -value : value
        }
        if significant <= 19, let value = ExactDecimal.value(mantissa, power: power) { return negative ? -value : value }
        return slow(b)
    }

    /// Digits with exactly one '.' among them, 4 to 8 bytes ("12.3456", "0.5", "1234.")
    /// read eight bytes at once with no branch per digit: the mantissa and the number of
    /// digits after the point, or nil for any other shape (the byte loop decides those).
    @inline(__always)
    static func shortDecimal(_ p: UnsafePointer<UInt8>, _ length: Int) -> (UInt64, Int)? {
        let raw = UnsafeRawPointer(p)
        // Bytes 0..<length in memory order, the first in the lowest byte (two overlapping reads).
        let low = UInt64(UInt32(littleEndian: raw.loadUnaligned(as: UInt32.self)))
        let high = UInt64(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: length - 4, as: UInt32.self)))
        var w = low | high << (8 * (length - 4))
        let inText: UInt64 = 0x8080_8080_8080_8080 >> (8 * (8 - length))
        let dots = zeroBytes(w ^ 0x2E2E_2E2E_2E2E_2E2E) & inText
        guard dots != 0, dots & (dots &- 1) == 0 else { return nil }
        let dot = dots.trailingZeroBitCount >> 3
        // Take the point out: bytes after it move down one.
        w = (w & ((1 << (8 * dot)) - 1)) | ((w >> (8 * (dot + 1))) << (8 * dot))
        let digits = length - 1
        // Left-pad to eight digits with '0's (they go in the low, leading bytes).
        w = (w << (8 * (8 - digits))) | (0x3030_3030_3030_3030 >> (8 * digits))
        // Every byte 0x30...0x39: high nibble 3, and adding 6 keeps it 3.
        guard (w & 0xF0F0_F0F0_F0F0_F0F0) | (((w &+ 0x0606_0606_0606_0606) & 0xF0F0_F0F0_F0F0_F0F0) >> 4) == 0x3333_3333_3333_3333 else {
            return nil
        }
        // Eight digits to a number with three multiplications (pairs, then fours, then all).
        w &-= 0x3030_3030_3030_3030
        w = (w &* 10) &+ (w >> 8)
        w = (((w & 0x0000_00FF_0000_00FF) &* 0x000F_4240_0000_0064)
            &+ (((w >> 16) & 0x0000_00FF_0000_00FF) &* 0x0000_2710_0000_0001)) >> 32
        return (w & 0xFFFF_FFFF, digits - dot)
    }

    /// 0x80 in each byte of v that is zero, exactly (no carry crosses bytes).
    @inline(__always)
    private static func zeroBytes(_ v: UInt64) -> UInt64 {
        let low7: UInt64 = 0x7F7F_7F7F_7F7F_7F7F
        return ~(((v & low7) &+ low7) | v | low7)
    }

    private static func slow(_ b: UnsafeBufferPointer<UInt8>) -> Double? {
        // Swift accepts hex floats and "infinity"; data files mean decimal text. (On bytes:
        // String.contains(_:) with a string argument is Foundation's, and costs a microsecond.)
        if b.contains(where: { $0 | 0x20 == UInt8(ascii: "x") }) { return nil }
        return Double(String(decoding: b, as: UTF8.self))
    }

    /// Integer text (an optional sign and digits only) as a Double, in one pass; nil for any
    /// other text. Up to 18 digits are exact in an Int64, whose conversion rounds as strtod does.
    @inline(__always)
    static func integer(_ b: UnsafeBufferPointer<UInt8>) -> Double? {
        guard let p = b.baseAddress, b.count > 0 else { return nil }
        let negative = p[0] == UInt8(ascii: "-")
        var i = negative || p[0] == UInt8(ascii: "+") ? 1 : 0
        let start = i
        guard b.count - start <= 18 else { return isInteger(b) ? double(b) : nil }
        var v: Int64 = 0
        while i < b.count {
            let d = p[i] &- 48
            if d >= 10 { return nil }
            v = v &* 10 &+ Int64(d)
            i += 1
        }
        guard i > start else { return nil }
        return negative ? -Double(v) : Double(v)
    }

    /// Optional sign and digits only.
    static func isInteger(_ b: UnsafeBufferPointer<UInt8>) -> Bool {
        var i = 0
        if b.count > 0, b[0] == UInt8(ascii: "-") || b[0] == UInt8(ascii: "+") { i = 1 }
        guard i < b.count else { return false }
        while i < b.count {
            if b[i] &- 48 >= 10 { return false }
            i += 1
        }
        return true
    }

    static func boolean(_ text: String) -> Bool? {
        switch text {
        case "true", "True", "TRUE", "1": return true
        case "false", "False", "FALSE", "0": return false
        default: return nil
        }
    }

    static func equals(_ b: UnsafeBufferPointer<UInt8>, _ bytes: [UInt8]) -> Bool {
        b.count == bytes.count && b.elementsEqual(bytes)
    }
}
