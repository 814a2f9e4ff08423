/// Values per category, one bar per series side by side in each group (the candidate's and
/// production's), the value written above each bar.
public struct BarChart: Sendable {
    public struct Series: Sendable {
        public var name: String
        /// Category -> value.
        public var values: [String: Double]

        public init(name: String, values: [String: Double]) {
            self.name = name
            self.values = values
        }
    }

    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var categories: [String]
    public var series: [Series]

    public init(title: String, xLabel: String, yLabel: String, categories: [String], series: [Series]) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.categories = categories
        self.series = series
    }

    public func svg(width: Int = 640, height: Int = 320) -> String {
        let values = series.flatMap { s in categories.compactMap { s.values[$0] } }
        let description = "\(yLabel) by \(xLabel) for \(categories.count) categories; " + series.map { s in
            "\(s.name): " + categories.compactMap { c in s.values[c].map { "\(c) \(NumberText.short($0))" } }.joined(separator: ", ")
        }.joined(separator: "; ")
        var svg = SVGWriter(width: width, height: height, title: title, description: String(description.prefix(2000)))
        let (left, right, top, bottom) = (64.0, 16.0, 34.0, 58.0)
        let y = ChartScale(values: values, bounded: false, pixels: (Double(height) - bottom, top), includeZero: true)
        svg.label(title, x: left, y: 22, size: 13, color: "#1d2330", weight: "600")
        for t in y.ticks {
            svg.line(left, y.pixel(t), Double(width) - right, y.pixel(t), color: "#eef0f4")
            svg.label(NumberText.short(t), x: left - 6, y: y.pixel(t) + 4, anchor: "end")
        }
        let group = (Double(width) - right - left) / Double(max(categories.count, 1))
        let bar = group * 0.8 / Double(max(series.count, 1))
        for (c, category) in categories.enumerated() {
            let gx = left + group * Double(c) + group * 0.1
            svg.label(category, x: gx + group * 0.4, y: Double(height) - bottom + 16, anchor: "middle")
            for (k, s) in series.enumerated() {
                guard let v = s.values[category] else { continue }
                let (top, base) = (y.pixel(max(v, 0)), y.pixel(min(v, 0)))
                let color = LineChart.colors[k % LineChart.colors.count]
                svg.raw("<rect data-series=\"\(SVGWriter.escape(s.name))\" data-category=\"\(SVGWriter.escape(category))\" data-value=\"\(v)\" ")
                svg.raw("x=\"\(SVGWriter.n(gx + bar * Double(k)))\" y=\"\(SVGWriter.n(top))\" width=\"\(SVGWriter.n(max(bar - 2, 1)))\" height=\"\(SVGWriter.n(max(base - top, 0.5)))\" fill=\"\(color)\"")
                svg.raw(k == 0 ? ">" : " fill-opacity=\"0.55\" stroke=\"\(color)\">")
                svg.raw("<title>\(SVGWriter.escape("\(s.name), \(category): \(NumberText.short(v))"))</title></rect>")
                if bar >= 18 { svg.label(NumberText.short(v), x: gx + bar * (Double(k) + 0.5), y: top - 4, size: 10, anchor: "middle") }
            }
        }
        svg.line(left, y.pixel(0), Double(width) - right, y.pixel(0), color: "#8a93a6")
        svg.label(xLabel, x: (left + Double(width) - right) / 2, y: Double(height) - bottom + 32, anchor: "middle")
        var lx = left
        for (k, s) in series.enumerated() {
            let color = LineChart.colors[k % LineChart.colors.count]
            svg.raw("<rect x=\"\(SVGWriter.n(lx))\" y=\"\(height - 20)\" width=\"12\" height=\"10\" fill=\"\(color)\"\(k == 0 ? "" : " fill-opacity=\"0.55\" stroke=\"\(color)\"")/>")
            svg.label(s.name, x: lx + 16, y: Double(height) - 11)
            lx += 30 + Double(s.name.count) * 6.5
        }
        return svg.finish()
    }
}
