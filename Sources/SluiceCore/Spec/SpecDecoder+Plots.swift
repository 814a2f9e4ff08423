/// A stage's `plots:`: each a data file (`plots/roc.csv`) or a mapping
/// `{ file, x, y, template: linear | scatter | confusion | bar, title }`.
extension SpecDecoder {
    /// The most plots a stage declares.
    static let plotLimit = 32

    mutating func decodePlots(_ node: Node, stage: String) -> [PlotSpec] {
        guard let items = node.sequence else {
            reader.error(node, "'plots' of stage '\(stage)' must be a list, found \(node.kindName)",
                         hint: "e.g. plots: [{ file: plots/roc.csv, x: fpr, y: tpr, template: linear, title: ROC }]")
            return []
        }
        if items.count > Self.plotLimit {
            reader.error(node, "stage '\(stage)' declares \(items.count) plots; at most \(Self.plotLimit)")
            return []
        }
        var plots: [PlotSpec] = []
        for item in items {
            if item.isScalar {
                if let file = relativePath(item, what: "a plot of stage '\(stage)'") { plots.append(PlotSpec(file: file, location: item.location)) }
                continue
            }
            guard let fields = reader.mapping(item, what: "a plot of stage '\(stage)'", allowed: SpecKeys.plot) else { continue }
            guard let fileNode = fields.first(where: { $0.key == "file" })?.value else {
                reader.error(item, "a plot of stage '\(stage)' needs 'file' (the data file the stage writes)")
                continue
            }
            guard let file = relativePath(fileNode, what: "'file' of a plot of stage '\(stage)'") else { continue }
            var plot = PlotSpec(file: file, location: item.location)
            for (key, _, value) in fields where key != "file" {
                guard let text = reader.nonEmptyString(value, what: "'\(key)' of plot '\(file)' of stage '\(stage)'") else { continue }
                switch key {
                case "x": plot.x = text
                case "y": plot.y = text
                case "title": plot.title = text
                case "template":
                    if let t = PlotSpec.Template(rawValue: text) {
                        plot.template = t
                    } else {
                        reader.error(value, "plot '\(file)' of stage '\(stage)' has template '\(text)'",
                                     hint: Suggestion.hint(for: text, in: PlotSpec.Template.allCases.map(\.rawValue))
                                        ?? "use one of: \(PlotSpec.Template.allCases.map(\.rawValue).joined(separator: ", "))")
                    }
                default: break
                }
            }
            if plots.contains(where: { $0.name == plot.name }) {
                reader.error(item, "stage '\(stage)' declares two plots named '\(plot.name)'", hint: "give one a 'title'")
                continue
            }
            plots.append(plot)
        }
        return plots
    }
}
