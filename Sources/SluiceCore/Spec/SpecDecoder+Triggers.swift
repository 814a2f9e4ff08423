/// A stage's `when:`: the paths and datasets whose change runs it, schedules, and the metric
/// triggers that retrain on a live metric.
extension SpecDecoder {
    mutating func decodeWhen(_ node: Node, stage: String, datasets: [DatasetSpec]) -> Trigger? {
        guard let fields = reader.mapping(node, what: "'when' of stage '\(stage)'", allowed: SpecKeys.when) else { return nil }
        var trigger = Trigger()
        for (key, _, value) in fields {
            if key == "schedule" {
                guard let text = reader.string(value, what: "'when.schedule' of stage '\(stage)'") else { continue }
                do throws(Schedule.SyntaxError) { trigger.schedule = try Schedule.parse(text) } catch {
                    reader.error(value, "schedule of stage '\(stage)': \(error.message)", hint: "e.g. 'every 24h' or '0 3 * * *' (UTC)")
                }
                continue
            }
            if key == "prometheus" {
                trigger.prometheus = decodeMetricTrigger(value, stage: stage)
                continue
            }
            guard let list = reader.stringList(value, what: "'when.\(key)' of stage '\(stage)'") else { continue }
            switch key {
            case "paths":
                for (text, item) in list {
                    do throws(Glob.SyntaxError) {
                        trigger.paths.append(try Glob(text))
                    } catch {
                        reader.error(item, "path pattern '\(text)' in stage '\(stage)' cannot match: \(error.message)", hint: error.hint)
                    }
                }
            case "datasets":
                for (name, item) in list {
                    if datasets.contains(where: { $0.name == name }) {
                        trigger.datasets.append(name)
                    } else {
                        reader.error(item, "stage '\(stage)' is triggered by unknown dataset '\(name)'",
                                     hint: Suggestion.hint(for: name, in: datasets.map(\.name)) ?? "declare it under 'datasets'")
                    }
                }
            default: break
            }
        }
        if fields.isEmpty { reader.error(node, "'when' of stage '\(stage)' is empty", hint: "remove it to run on every commit") }
        return trigger
    }

    mutating func decodeMetricTrigger(_ node: Node, stage: String) -> MetricTrigger? {
        guard let fields = reader.mapping(node, what: "'when.prometheus' of stage '\(stage)'", allowed: SpecKeys.prometheus) else { return nil }
        let f = Fields(fields)
        guard let q = f["query"], let query = reader.nonEmptyString(q, what: "'when.prometheus.query' of stage '\(stage)'") else {
            if f["query"] == nil { reader.error(node, "'when.prometheus' of stage '\(stage)' needs 'query' (PromQL)") }
            return nil
        }
        let bounds = [("above", MetricTrigger.Comparison.above), ("below", .below)].compactMap { key, c in f[key].map { (key, c, $0) } }
        guard bounds.count == 1, let (key, comparison, valueNode) = bounds.first else {
            reader.error(node, "'when.prometheus' of stage '\(stage)' needs exactly one of 'above' or 'below'", hint: "e.g. 'below: 0.85'")
            return nil
        }
        guard let threshold = valueNode.double, threshold.isFinite else {
            reader.error(valueNode, "'when.prometheus.\(key)' of stage '\(stage)' must be a number, found \(valueNode.kindName)")
            return nil
        }
        var url: String?
        if let u = f["url"] { url = reader.nonEmptyString(u, what: "'when.prometheus.url' of stage '\(stage)'") }
        return MetricTrigger(query: query, comparison: comparison, threshold: threshold, url: url)
    }
}
