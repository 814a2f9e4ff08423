/// Numbers as people read them in reports and terminals: at most four decimals in the usual
/// range (0.8123, 152.5), large values to the unit (31234568: an error in currency keeps its
/// digits), three significant digits with an exponent for tiny or astronomical ones (2.2e-4,
/// 1.5e+20), whole numbers without a fraction.
public enum NumberText {
    public static func short(_ v: Double) -> String {
        if v.isNaN { return "NaN" }
        if v.isInfinite { return v < 0 ? "-inf" : "inf" }
        if v == 0 { return "0" }
        let magnitude = abs(v)
        if magnitude >= 1e-3, magnitude < 1e6 { return MetricRange.text((v * 1e4).rounded() / 1e4) }
        if magnitude >= 1e6, magnitude < 1e15 { return MetricRange.text(v.rounded()) }
        var exponent = 0
        var mantissa = magnitude
        while mantissa >= 10 { mantissa /= 10; exponent += 1 }
        while mantissa < 1 { mantissa *= 10; exponent -= 1 }
        var digits = (mantissa * 100).rounded()
        if digits >= 1000 { digits /= 10; exponent += 1 }
        let whole = Int(digits) / 100, fraction = Int(digits) % 100
        var text = String(whole)
        if fraction != 0 { text += "." + (fraction % 10 == 0 ? String(fraction / 10) : (fraction < 10 ? "0" : "") + String(fraction)) }
        return (v < 0 ? "-" : "") + text + "e" + (exponent < 0 ? "-" : "+") + String(abs(exponent))
    }
}
