/// Values over an x axis: curves (a ROC curve, a loss per epoch), points (a scatter), and a
/// metric over candidates, with horizontal rules (a policy's bound, production − tolerance).
/// Series differ by colour, dash and marker shape, so the chart does not rely on colour alone.
public struct LineChart: Sendable {
    public enum Marker: String, Sendable, CaseIterable {
        /// filled circle, ×, hollow circle, square
        case dot, cross, ring, square
    }

    public struct Point: Sendable, Hashable {
        public var x: Double
        public var y: Double
        /// What hovering the point says (a version, a run); the values are added.
        public var label: String
        public var marker: Marker

        public init(x: Double, y: Double, label: String = "", marker: Marker = .dot) {
            self.x = x
            self.y = y
            self.label = label
            self.marker = marker
        }
    }

    public struct Series: Sendable {
        public var name: String
        public var points: [Point]
        /// Joined by a line (a curve), or points only (a scatter).
        public var joined: Bool
        /// Drawn as steps (a value that holds until the next point: production's metric).
        public var steps: Bool = false

        public init(name: String, points: [Point], joined: Bool = true, steps: Bool = false) {
            self.name = name
            self.points = points
            self.joined = joined
            self.steps = steps
        }
    }

    public struct Rule: Sendable, Hashable {
        public var value: Double
        public var label: String

        public init(value: Double, label: String) {
            self.value = value
            self.label = label
        }
    }

    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var series: [Series]
    public var rules: [Rule] = []
    /// Names for whole x values (candidates by position); nil: numbers.
    public var xNames: [Int: String]?
    /// Keep the y axis inside 0...1 (a metric that cannot pass 1).
    public var bounded = false
    /// What each marker shape means, for the legend (e.g. `.cross`: "rejected").
    public var markerMeaning: [Marker: String] = [:]
    /// Markers are drawn for series of at most this many points (each with its values as a
    /// tooltip and `data-x`/`data-y`); longer curves are one polyline.
    public static let markerLimit = 200

    public init(title: String, xLabel: String, yLabel: String, series: [Series]) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.series = series
    }

    static let colors = ["#0b57b0", "#b3261e", "#1e7d32", "#7a3db8", "#a15c00"]
    static let dashes: [String?] = [nil, "6 4", "2 3", "8 3 2 3", "1 2"]

    public func svg(width: Int = 640, height: Int = 320) -> String {
        let allPoints = series.flatMap(\.points)
        let count = allPoints.count
        var svg = SVGWriter(width: width, height: height, title: title, description: description(count: count))
        let (left, right, top, bottom) = (64.0, 16.0, 34.0, 58.0)
        // Candidates by position get half a step of room on each side, clear of the axes.
        let xs = allPoints.map(\.x) + (xNames == nil ? [] : [(allPoints.map(\.x).min() ?? 0) - 0.5, (allPoints.map(\.x).max() ?? 0) + 0.5])
        let x = ChartScale(values: xs, bounded: false, pixels: (left, Double(width) - right))
        let y = ChartScale(values: allPoints.map(\.y) + rules.map(\.value), bounded: bounded, pixels: (Double(height) - bottom, top))
        svg.label(title, x: left, y: 22, size: 13, color: "#1d2330", weight: "600")
        for t in y.ticks {
            svg.line(left, y.pixel(t), Double(width) - right, y.pixel(t), color: "#eef0f4")
            svg.label(NumberText.short(t), x: left - 6, y: y.pixel(t) + 4, anchor: "end")
        }
        for t in x.ticks {
            let name = xNames.map { $0[Int(t.rounded())] ?? "" } ?? NumberText.short(t)
            if xNames != nil, t != t.rounded() { continue }
            svg.label(name, x: x.pixel(t), y: Double(height) - bottom + 16, anchor: "middle")
        }
        svg.line(left, Double(height) - bottom, Double(width) - right, Double(height) - bottom, color: "#8a93a6")
        svg.line(left, top, left, Double(height) - bottom, color: "#8a93a6")
        svg.label(xLabel, x: (left + Double(width) - right) / 2, y: Double(height) - bottom + 32, anchor: "middle")
        svg.label(yLabel, x: 14, y: (top + Double(height) - bottom) / 2, anchor: "middle", rotate: true)
        for rule in rules {
            svg.line(left, y.pixel(rule.value), Double(width) - right, y.pixel(rule.value), color: "#a15c00", width: 1.5, dash: "5 3")
            svg.label("\(rule.label) \(NumberText.short(rule.value))", x: Double(width) - right - 4, y: y.pixel(rule.value) - 4, anchor: "end", color: "#a15c00")
        }
        for (i, s) in series.enumerated() {
            let color = Self.colors[i % Self.colors.count]
            if s.joined, s.points.count > 1 {
                var coordinates = ""
                coordinates.reserveCapacity(s.points.count * 12)
                var previous: Point?
                for p in s.points {
                    if s.steps, let previous { coordinates += "\(SVGWriter.n(x.pixel(p.x))),\(SVGWriter.n(y.pixel(previous.y))) " }
                    coordinates += "\(SVGWriter.n(x.pixel(p.x))),\(SVGWriter.n(y.pixel(p.y))) "
                    previous = p
                }
                svg.raw("<polyline data-series=\"\(SVGWriter.escape(s.name))\" data-points=\"\(s.points.count)\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\"")
                if let dash = Self.dashes[i % Self.dashes.count] { svg.raw(" stroke-dasharray=\"\(dash)\"") }
                svg.raw(" points=\"\(coordinates.dropLast())\"/>")
            }
            if !s.joined || s.points.count <= Self.markerLimit {
                for p in s.points { marker(&svg, p, x: x.pixel(p.x), y: y.pixel(p.y), color: color, series: s.name) }
            }
        }
        legend(&svg, y: Double(height) - 12, left: left)
        return svg.finish()
    }

    private func marker(_ svg: inout SVGWriter, _ p: Point, x: Double, y: Double, color: String, series: String) {
        let data = "data-series=\"\(SVGWriter.escape(series))\" data-x=\"\(p.x)\" data-y=\"\(p.y)\" data-marker=\"\(p.marker.rawValue)\""
        let tip = "<title>\(SVGWriter.escape((p.label.isEmpty ? "" : p.label + ": ") + "\(xLabel) \(NumberText.short(p.x)), \(yLabel) \(NumberText.short(p.y))"))</title>"
        let (cx, cy) = (SVGWriter.n(x), SVGWriter.n(y))
        switch p.marker {
        case .dot: svg.raw("<circle \(data) cx=\"\(cx)\" cy=\"\(cy)\" r=\"4\" fill=\"\(color)\">\(tip)</circle>")
        case .ring: svg.raw("<circle \(data) cx=\"\(cx)\" cy=\"\(cy)\" r=\"4\" fill=\"#fff\" stroke=\"\(color)\" stroke-width=\"2\">\(tip)</circle>")
        case .square: svg.raw("<rect \(data) x=\"\(SVGWriter.n(x - 4))\" y=\"\(SVGWriter.n(y - 4))\" width=\"8\" height=\"8\" fill=\"\(color)\">\(tip)</rect>")
        case .cross:
            svg.raw("<path \(data) d=\"M\(SVGWriter.n(x - 4)) \(SVGWriter.n(y - 4))L\(SVGWriter.n(x + 4)) \(SVGWriter.n(y + 4))M\(SVGWriter.n(x - 4)) \(SVGWriter.n(y + 4))L\(SVGWriter.n(x + 4)) \(SVGWriter.n(y - 4))\" stroke=\"#b3261e\" stroke-width=\"2.5\">\(tip)</path>")
        }
    }

    private func legend(_ svg: inout SVGWriter, y: Double, left: Double) {
        var x = left
        for (i, s) in series.enumerated() {
            let color = Self.colors[i % Self.colors.count]
            if s.joined {
                svg.line(x, y - 4, x + 18, y - 4, color: color, width: 2, dash: Self.dashes[i % Self.dashes.count])
            } else {
                svg.raw("<circle cx=\"\(SVGWriter.n(x + 9))\" cy=\"\(SVGWriter.n(y - 4))\" r=\"4\" fill=\"\(color)\"/>")
            }
            svg.label(s.name, x: x + 22, y: y)
            x += 34 + Double(s.name.count) * 6.5
        }
        let used = Set(series.flatMap { $0.points.map(\.marker) })
        let symbols: [Marker: String] = [.dot: "●", .cross: "×", .ring: "○", .square: "■"]
        let words = Marker.allCases.filter { used.contains($0) && markerMeaning[$0] != nil }.map { "\(symbols[$0]!) \(markerMeaning[$0]!)" }
        if !words.isEmpty { svg.label(words.joined(separator: "  "), x: x + 8, y: y) }
    }

    /// In words: what is drawn, how many points, and each series' range.
    func description(count: Int) -> String {
        var parts = ["\(yLabel) by \(xLabel)"]
        for s in series {
            let ys = s.points.map(\.y)
            if let lo = ys.min(), let hi = ys.max() {
                parts.append("\(s.name): \(s.points.count) point(s) from \(NumberText.short(lo)) to \(NumberText.short(hi))")
            }
        }
        for rule in rules { parts.append("\(rule.label) at \(NumberText.short(rule.value))") }
        return parts.joined(separator: "; ")
    }
}
