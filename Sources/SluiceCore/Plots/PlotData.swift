/// A declared plot's data as a run stored it: the two columns it draws, row by row, with what
/// was wrong with the file (a located warning, never a failed run). Stored as report kind
/// `plot:<file>` (a run's reports are keyed by stage and kind).
public struct PlotData: Codable, Sendable, Hashable {
    public var stage: String
    public var name: String
    public var file: String
    public var template: String
    public var x: String
    public var y: String
    /// [x, y] per row, as written (numbers for linear, scatter and bar's y; labels for confusion).
    public var points: [[String]]
    /// Rows left out and why, or why there is nothing to draw.
    public var warnings: [String] = []
    /// Its place among the stage's `plots:` (charts are shown in that order).
    public var position = 0

    public init(stage: String, name: String, file: String, template: String, x: String, y: String, points: [[String]], warnings: [String] = []) {
        self.stage = stage
        self.name = name
        self.file = file
        self.template = template
        self.x = x
        self.y = y
        self.points = points
        self.warnings = warnings
    }

    public static func reportKind(file: String) -> String { "plot:" + file }
    public static func isReportKind(_ kind: String) -> Bool { kind.hasPrefix("plot:") }
    /// At most this many rows are named in the warnings; the rest are counted.
    static let namedWarnings = 3

    /// The columns `spec` draws from `table`; rows a numeric template cannot draw are left out with a warning.
    public static func make(_ spec: PlotSpec, stage: String, table: PlotTable) throws(PlotTable.Problem) -> PlotData {
        func column(_ name: String?, default index: Int, axis: String) throws(PlotTable.Problem) -> Int {
            if let name {
                guard let i = table.columns.firstIndex(of: name) else {
                    throw PlotTable.Problem(description: "\(spec.file) has no column '\(name)' (its \(axis)); its columns: \(table.columns.joined(separator: ", "))")
                }
                return i
            }
            guard table.columns.indices.contains(index) else {
                throw PlotTable.Problem(description: "\(spec.file) has \(table.columns.count) column(s): name the plot's '\(axis)'")
            }
            return index
        }
        let (xi, yi) = (try column(spec.x, default: 0, axis: "x"), try column(spec.y, default: 1, axis: "y"))
        var data = PlotData(stage: stage, name: spec.name, file: spec.file, template: spec.template.rawValue, x: table.columns[xi], y: table.columns[yi], points: [])
        data.points.reserveCapacity(table.rows.count)
        var left = 0
        for (n, row) in table.rows.enumerated() {
            let (x, y) = (row[xi].trimmingCharacters(in: .whitespaces), row[yi].trimmingCharacters(in: .whitespaces))
            let numericX = spec.template == .linear || spec.template == .scatter
            let numericY = spec.template != .confusion
            let bad = numericX && Double(x)?.isFinite != true ? (data.x, x) : numericY && Double(y)?.isFinite != true ? (data.y, y) : nil
            if let (name, value) = bad {
                left += 1
                if left <= namedWarnings {
                    data.warnings.append("\(spec.file):\(table.lines[n]): '\(value)' in column '\(name)' is not a number; the row is left out")
                }
                continue
            }
            data.points.append([x, y])
        }
        if left > namedWarnings { data.warnings.append("\(spec.file): \(left - namedWarnings) more row(s) left out for the same reason") }
        if data.points.isEmpty, !table.rows.isEmpty { data.warnings.append("\(spec.file): no row can be drawn") }
        return data
    }

    /// Nothing to draw, and why.
    public static func failed(_ spec: PlotSpec, stage: String, _ problem: String) -> PlotData {
        PlotData(stage: stage, name: spec.name, file: spec.file, template: spec.template.rawValue, x: spec.x ?? "", y: spec.y ?? "",
                 points: [], warnings: [problem])
    }
}
