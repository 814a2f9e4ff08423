/// Reading field text as numbers and booleans without allocating for the common case.
enum FieldParsing {
    private static let exactPowersOfTen: [Double] = (0...22).map { e in
        var p = 1.0
        for _ in 0..<e { p *= 10 }
        return p
    }

    /// Decimal text as a Double, correctly rounded: short mantissas take the exact
    /// fast path (Clinger), everything else goes through the standard library.
    static func double(_ b: UnsafeBufferPointer<UInt8>) -> Double? {
        guard let p = b.baseAddress, b.count > 0 else { return nil }
        let n = b.count
        var i = 0
        let negative = p[0] == UInt8(ascii: "-")
        if negative || p[0] == UInt8(ascii: "+") { i = 1 }
        var mantissa: UInt64 = 0
        let digitsStart = i
        while i < n {
            let d = p[i] &- 48
            if d >= 10 { break }
            mantissa = mantissa &* 10 &+ UInt64(d)
            i += 1
        }
        var digits = i - digitsStart
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
        guard digits > 0, i == n else {
            // Exponents, "inf"/"nan" and malformed text take the standard library's path.
            return i < n && (p[i] | 0x20) == UInt8(ascii: "e") || digits == 0 ? slow(b) : nil
        }
        if digits <= 15, fractionDigits <= 22 {
            let value = Double(mantissa) / exactPowersOfTen[fractionDigits]
            return negative ? -value : value
        }
        return slow(b)
    }

    private static func slow(_ b: UnsafeBufferPointer<UInt8>) -> Double? {
        let text = String(decoding: b, as: UTF8.self)
        // Swift accepts hex floats and "infinity"; data files mean decimal text.
        if text.contains("x") || text.contains("X") { return nil }
        return Double(text)
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
