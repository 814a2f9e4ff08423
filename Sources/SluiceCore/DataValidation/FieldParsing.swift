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
        var i = 0
        let n = b.count
        guard n > 0 else { return nil }
        var negative = false
        if b[0] == UInt8(ascii: "-") || b[0] == UInt8(ascii: "+") { negative = b[0] == UInt8(ascii: "-"); i = 1 }
        var mantissa: UInt64 = 0
        var digits = 0
        var fractionDigits = 0
        var sawDigit = false
        while i < n, b[i] &- 48 < 10 {
            mantissa = mantissa &* 10 &+ UInt64(b[i] &- 48); digits += 1; i += 1; sawDigit = true
        }
        if i < n, b[i] == UInt8(ascii: ".") {
            i += 1
            while i < n, b[i] &- 48 < 10 {
                mantissa = mantissa &* 10 &+ UInt64(b[i] &- 48); digits += 1; fractionDigits += 1; i += 1; sawDigit = true
            }
        }
        var exponent = 0
        if i < n, b[i] == UInt8(ascii: "e") || b[i] == UInt8(ascii: "E") {
            return slow(b)
        }
        guard sawDigit else { return slow(b) }
        guard i == n else { return nil }
        exponent -= fractionDigits
        if digits <= 15, mantissa < (1 << 53), exponent >= -22, exponent <= 22 {
            var value = Double(mantissa)
            value = exponent < 0 ? value / exactPowersOfTen[-exponent] : value * exactPowersOfTen[exponent]
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
