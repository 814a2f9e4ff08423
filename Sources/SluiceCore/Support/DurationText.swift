/// Durations as written in `timeout:` and schedules: `90s`, `30m`, `1h30m`, `2d`, `500ms`.
public enum DurationText {
    /// Whole seconds (rounded up), or nil when the text is not a duration.
    public static func seconds(_ text: String) -> Int? {
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600), ("d", 86400)]
        var rest = Substring(text.trimmingWhitespace())
        guard !rest.isEmpty else { return nil }
        var total = 0.0
        while !rest.isEmpty {
            let number = rest.prefix { $0.isNumber || $0 == "." }
            guard !number.isEmpty, let value = Double(number) else { return nil }
            rest = rest.dropFirst(number.count)
            let unit = rest.prefix { $0.isLetter }
            guard let factor = units.first(where: { $0.0 == unit })?.1 else { return nil }
            rest = rest.dropFirst(unit.count)
            total += value * factor
        }
        guard total > 0, total < Double(Int.max / 2) else { return nil }
        return Int(total.rounded(.up))
    }

    /// The shortest readable form: 5400 -> "1h30m".
    public static func format(seconds: Int) -> String {
        if seconds == 0 { return "0s" }
        var s = seconds, out = ""
        for (unit, size) in [("d", 86400), ("h", 3600), ("m", 60), ("s", 1)] where s >= size {
            out += "\(s / size)\(unit)"
            s %= size
        }
        return out
    }
}
