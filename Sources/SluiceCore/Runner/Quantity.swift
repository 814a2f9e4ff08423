/// A Kubernetes resource quantity (`500m`, `2`, `4Gi`, `1.5G`, `1e3`), checked as the API
/// server reads it, so a bad value is a located error in `sluice.yaml`, not a refused Job.
public enum Quantity {
    static let binary: [(String, Double)] = [("Ki", 0x1p10), ("Mi", 0x1p20), ("Gi", 0x1p30), ("Ti", 0x1p40),
                                             ("Pi", 0x1p50), ("Ei", 0x1p60)]
    static let decimal: [(String, Double)] = [("m", 1e-3), ("k", 1e3), ("M", 1e6), ("G", 1e9), ("T", 1e12), ("P", 1e15), ("E", 1e18)]

    /// The value in base units (cores, bytes, devices), or nil when `text` is not a quantity.
    public static func value(_ text: String) -> Double? {
        var s = Substring(text)
        if s.hasPrefix("+") { s = s.dropFirst() }
        let digits = s.prefix { $0.isASCII && ($0.isNumber || $0 == ".") }
        guard !digits.isEmpty, digits.filter({ $0 == "." }).count <= 1, digits != ".",
              digits.count <= 30, let number = Double(digits) else { return nil }
        let suffix = s.dropFirst(digits.count)
        if suffix.isEmpty { return number }
        if let m = (binary + decimal).first(where: { $0.0 == suffix }) { return number * m.1 }
        // Decimal exponent: 1e3, 2E-2.
        if let first = suffix.first, first == "e" || first == "E" {
            var rest = suffix.dropFirst()
            var sign = 1.0
            if rest.first == "+" || rest.first == "-" { sign = rest.first == "-" ? -1 : 1; rest = rest.dropFirst() }
            guard !rest.isEmpty, rest.count <= 3, rest.allSatisfy({ $0.isASCII && $0.isNumber }), let e = Double(rest) else { return nil }
            return number * pow10(sign * e)
        }
        return nil
    }

    static func pow10(_ e: Double) -> Double {
        var r = 1.0
        for _ in 0..<Int(e.magnitude) { r *= 10 }
        return e < 0 ? 1 / r : r
    }
}
