/// A plot a stage declares (`plots:`): a data file it writes, the columns to draw and how. Drawn
/// for the candidate over the production model's run, as `dvc plots diff` does.
public struct PlotSpec: Hashable, Sendable {
    public enum Template: String, CaseIterable, Hashable, Sendable {
        /// y over x, joined (a ROC curve, a loss per epoch)
        case linear
        /// y over x, points only
        case scatter
        /// counts of (x = actual, y = predicted) rows
        case confusion
        /// y per category x
        case bar
    }

    /// The data file, relative to the repository root: CSV, TSV, JSON or YAML rows.
    public var file: String
    /// Column names; nil: the file's first (x) and second (y) column.
    public var x: String?
    public var y: String?
    public var template: Template
    public var title: String?
    public var location: SourceLocation

    public init(file: String, x: String? = nil, y: String? = nil, template: Template = .linear, title: String? = nil,
                location: SourceLocation) {
        self.file = file
        self.x = x
        self.y = y
        self.template = template
        self.title = title
        self.location = location
    }

    /// What the plot is called on pages and in file names.
    public var name: String { title ?? file }
}
