/// A confusion matrix: actual classes down, predicted across, each cell with its count written
/// in it and shaded by its share of the row (the number, not the shade, carries the value).
/// Several panels side by side: the candidate's and production's.
public struct ConfusionChart: Sendable {
    public struct Panel: Sendable {
        public var name: String
        /// counts[actual][predicted], both indexed like `labels`.
        public var counts: [[Int]]

        public init(name: String, counts: [[Int]]) {
            self.name = name
            self.counts = counts
        }
    }

    public var title: String
    public var labels: [String]
    public var panels: [Panel]

    public init(title: String, labels: [String], panels: [Panel]) {
        self.title = title
        self.labels = labels
        self.panels = panels
    }

    /// Counts from (actual, predicted) pairs; labels sorted.
    public static func panel(_ name: String, pairs: [(actual: String, predicted: String)], labels: [String]) -> Panel {
        let index = Dictionary(labels.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
        var counts = Array(repeating: Array(repeating: 0, count: labels.count), count: labels.count)
        for (a, p) in pairs {
            guard let i = index[a], let j = index[p] else { continue }
            counts[i][j] += 1
        }
        return Panel(name: name, counts: counts)
    }

    public func svg() -> String {
        let n = max(labels.count, 1)
        let cell = max(18.0, min(56.0, 360.0 / Double(n)))
        let labelWidth = min(140.0, Double(labels.map(\.count).max() ?? 4) * 7 + 12)
        // Wide enough for its header ("production (run 12) (predicted →)") as well as its cells.
        let header = panels.map { "\($0.name) (predicted →)".count }.max() ?? 0
        let panelWidth = max(labelWidth + cell * Double(n), Double(header) * 6.6) + 24
        let width = Int(panelWidth * Double(max(panels.count, 1)) + 16)
        let height = Int(60 + labelWidth + cell * Double(n) + 8)
        let correct = panels.map { p in (0..<min(n, p.counts.count)).reduce(0) { $0 + (p.counts[$1].indices.contains($1) ? p.counts[$1][$1] : 0) } }
        let totals = panels.map { $0.counts.joined().reduce(0, +) }
        let summary = zip(panels, zip(correct, totals)).map { "\($0.name): \($1.0) of \($1.1) on the diagonal" }.joined(separator: "; ")
        var svg = SVGWriter(width: width, height: height, title: title, description: "confusion matrix, actual down, predicted across; " + summary)
        svg.label(title, x: 12, y: 22, size: 13, color: "#1d2330", weight: "600")
        for (k, panel) in panels.enumerated() {
            let x0 = 12 + Double(k) * panelWidth + labelWidth
            let y0 = 48.0 + labelWidth
            svg.label("\(panel.name) (predicted →)", x: x0 - labelWidth, y: 40, color: "#1d2330")
            for (j, name) in labels.enumerated() {
                svg.label(name, x: x0 + cell * (Double(j) + 0.5) + 4, y: y0 - 6, anchor: "start", rotate: true)
                svg.label(name, x: x0 - 6, y: y0 + cell * (Double(j) + 0.5) + 4, anchor: "end")
            }
            for (i, row) in panel.counts.prefix(n).enumerated() {
                let rowTotal = max(row.reduce(0, +), 1)
                for (j, count) in row.prefix(n).enumerated() {
                    let share = Double(count) / Double(rowTotal)
                    let shade = i == j ? "rgba(11,87,176,\(SVGWriter.n(0.1 + 0.8 * share)))" : "rgba(179,38,30,\(SVGWriter.n(count == 0 ? 0 : 0.1 + 0.6 * share)))"
                    let (cx, cy) = (x0 + cell * Double(j), y0 + cell * Double(i))
                    svg.raw("<rect data-panel=\"\(SVGWriter.escape(panel.name))\" data-actual=\"\(SVGWriter.escape(labels[i]))\" data-predicted=\"\(SVGWriter.escape(labels[j]))\" data-count=\"\(count)\" ")
                    svg.raw("x=\"\(SVGWriter.n(cx))\" y=\"\(SVGWriter.n(cy))\" width=\"\(SVGWriter.n(cell - 1))\" height=\"\(SVGWriter.n(cell - 1))\" fill=\"\(shade)\" stroke=\"#d9dee7\">")
                    svg.raw("<title>actual \(SVGWriter.escape(labels[i])), predicted \(SVGWriter.escape(labels[j])): \(count)</title></rect>")
                    svg.label(String(count), x: cx + cell / 2, y: cy + cell / 2 + 4, size: cell < 26 ? 9 : 11, anchor: "middle",
                              color: share > 0.6 ? "#fff" : "#1d2330")
                }
            }
        }
        return svg.finish()
    }
}
