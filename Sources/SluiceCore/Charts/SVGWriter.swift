/// Builds SVG text for Sluice's charts: escaped text, coordinates with one decimal (fast to
/// format: a 10,000-point curve is 10,000 of them), and the accessible frame every chart has
/// (`role="img"`, a `<title>` and a `<desc>` that says in words what the picture shows).
struct SVGWriter {
    private(set) var text = ""
    let width: Int
    let height: Int

    init(width: Int, height: Int, title: String, description: String) {
        self.width = width
        self.height = height
        text.reserveCapacity(4096)
        text += "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" viewBox=\"0 0 \(width) \(height)\" width=\"\(width)\" height=\"\(height)\" "
        // The <title> and <desc> children name and describe the image (no ids: several charts share a page).
        text += "role=\"img\" font-family=\"system-ui, sans-serif\">"
        text += "<title>\(Self.escape(title))</title><desc>\(Self.escape(description))</desc>"
        text += "<rect x=\"0.5\" y=\"0.5\" width=\"\(width - 1)\" height=\"\(height - 1)\" fill=\"#fff\" stroke=\"#d9dee7\"/>"
    }

    mutating func raw(_ s: String) { text += s }

    /// `<text>` at (x, y); `anchor`: start, middle, end.
    mutating func label(_ s: String, x: Double, y: Double, size: Int = 11, anchor: String = "start", color: String = "#5b6475",
                        weight: String? = nil, rotate: Bool = false) {
        text += "<text x=\"\(Self.n(x))\" y=\"\(Self.n(y))\" font-size=\"\(size)\" text-anchor=\"\(anchor)\" fill=\"\(color)\""
        if let weight { text += " font-weight=\"\(weight)\"" }
        if rotate { text += " transform=\"rotate(-90 \(Self.n(x)) \(Self.n(y)))\"" }
        text += ">\(Self.escape(s))</text>"
    }

    mutating func line(_ x1: Double, _ y1: Double, _ x2: Double, _ y2: Double, color: String, width: Double = 1, dash: String? = nil) {
        text += "<line x1=\"\(Self.n(x1))\" y1=\"\(Self.n(y1))\" x2=\"\(Self.n(x2))\" y2=\"\(Self.n(y2))\" stroke=\"\(color)\" stroke-width=\"\(Self.n(width))\""
        if let dash { text += " stroke-dasharray=\"\(dash)\"" }
        text += "/>"
    }

    mutating func finish() -> String {
        text += "</svg>"
        return text
    }

    /// A coordinate with at most one decimal.
    static func n(_ v: Double) -> String {
        guard v.isFinite else { return "0" }
        let tenths = Int((v * 10).rounded())
        let whole = tenths / 10, rest = abs(tenths % 10)
        if rest == 0 { return String(whole) }
        return (tenths < 0 && whole == 0 ? "-" : "") + String(whole) + "." + String(rest)
    }

    static func escape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for c in s {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default: out.append(c)
            }
        }
        return out
    }
}
