/// The top-level `plots:` of a DVC project's `dvc.yaml`, as Sluice's declared plots, so a DVC
/// repository's plots show without configuring them again. DVC's forms:
///
///     plots:
///       - data/loss.csv                       # a file: its first two columns
///       - data/roc.csv: { x: fpr, y: tpr }    # a file with options
///       - confusion:                          # an id; y names the file and its column
///           template: confusion
///           x: actual
///           y: { data/confusion.csv: predicted }
///
/// DVC's templates map onto Sluice's (`simple`, `smooth` → linear; `confusion_normalized` →
/// confusion; `bar_horizontal*` → bar). What Sluice cannot draw is a warning with its place.
public enum DVCPlots {
    public static let file = "dvc.yaml"

    static let templates: [String: PlotSpec.Template] = [
        "linear": .linear, "simple": .linear, "smooth": .linear, "scatter": .scatter, "confusion": .confusion,
        "confusion_normalized": .confusion, "bar_horizontal": .bar, "bar_horizontal_sorted": .bar,
    ]

    public static func decode(_ document: Node?) -> (plots: [PlotSpec], diagnostics: [Diagnostic]) {
        guard let pairs = document?.mapping, let node = pairs.first(where: { $0.key.string == "plots" })?.value else { return ([], []) }
        var diagnostics: [Diagnostic] = []
        guard let items = node.sequence else {
            return ([], [.warning(at: node.location, "dvc.yaml's 'plots' is not a list: its plots are not drawn")])
        }
        var plots: [PlotSpec] = []
        for item in items.prefix(32) {
            if item.isScalar, let file = item.string {
                plots.append(PlotSpec(file: file, location: item.location))
                continue
            }
            guard let entry = item.mapping, entry.count == 1, let id = entry[0].key.string else {
                diagnostics.append(.warning(at: item.location, "a dvc.yaml plot Sluice cannot read: expected a file or one id with its options"))
                continue
            }
            let options = Dictionary((entry[0].value.mapping ?? []).compactMap { p in p.key.string.map { ($0, p.value) } }, uniquingKeysWith: { a, _ in a })
            var plot = PlotSpec(file: id, location: item.location)
            if let y = options["y"], let files = y.mapping {
                // `y: { file: column }` names the file; `x` is then a column (or `{ file: column }`).
                guard let first = files.first, let file = first.key.string, let column = first.value.string ?? first.value.sequence?.first?.string else {
                    diagnostics.append(.warning(at: y.location, "plot '\(id)' of dvc.yaml: 'y' must map a file to a column"))
                    continue
                }
                plot.file = file
                plot.y = column
                plot.title = id
            } else {
                plot.y = options["y"]?.string
            }
            plot.x = options["x"]?.string ?? options["x"]?.mapping?.first?.value.string
            plot.title = options["title"]?.string ?? plot.title
            if let name = options["template"]?.string {
                if let template = templates[name] {
                    plot.template = template
                } else {
                    diagnostics.append(.warning(at: options["template"]!.location, "plot '\(id)' of dvc.yaml uses template '\(name)': Sluice draws it as a line",
                                                hint: "Sluice draws linear, scatter, confusion and bar plots"))
                }
            }
            guard !RepositoryPath.hasParentSegment(plot.file), !plot.file.hasPrefix("/") else {
                diagnostics.append(.warning(at: item.location, "plot '\(id)' of dvc.yaml names '\(plot.file)', outside the repository: not drawn"))
                continue
            }
            plots.append(plot)
        }
        return (plots, diagnostics)
    }
}
