/// Where a check stands, which decides the baselines it may compare with.
enum ComparisonPlace {
    /// `verify` of an environment before the last: the production version runs elsewhere.
    case verify
    /// `verify` of the last environment: the version under test is production's by then.
    case production
    /// `strategy.canary.analysis`: the stable version runs beside the canary.
    case canary
}

/// `compare:` of a check: a comparison of live metrics with a baseline version's.
extension SpecDecoder {
    mutating func decodeComparison(_ node: Node, what: String, place: ComparisonPlace) -> Comparison? {
        guard let fields = reader.mapping(node, what: "'compare' of \(what)", allowed: SpecKeys.comparison) else { return nil }
        let f = Fields(fields)
        guard let b = f["baseline"], let baselineText = reader.string(b, what: "'baseline' of \(what)") else {
            if f["baseline"] == nil { reader.error(node, "the comparison of \(what) needs a 'baseline'", hint: "stable (a canary's) or production") }
            return nil
        }
        guard let baseline = Comparison.Baseline(rawValue: baselineText) else {
            reader.error(b, "unknown baseline '\(baselineText)'", hint: Suggestion.hint(for: baselineText, in: Comparison.Baseline.allCases.map(\.rawValue)) ?? "use stable or production")
            return nil
        }
        switch (baseline, place) {
        case (.stable, .verify), (.stable, .production):
            reader.error(b, "'baseline: stable' in \(what): only a canary runs beside a stable version",
                         hint: "move the check under strategy.canary.analysis, or compare with 'baseline: production'")
        case (.production, .production):
            reader.error(b, "'baseline: production' in \(what) compares the version with itself: it is production's once it is verified here",
                         hint: "compare during a canary (strategy.canary.analysis with 'baseline: stable')")
        default: break
        }
        guard let q = f["query"], let query = reader.nonEmptyString(q, what: "'query' of \(what)") else {
            if f["query"] == nil { reader.error(node, "the comparison of \(what) needs a 'query'") }
            return nil
        }
        if !query.contains("{{version}}"), !query.contains("{{model.version}}") {
            reader.error(q, "the query of \(what) does not name the version, so it would measure the same series for both",
                         hint: "select the version's series, e.g. {version=\"{{version}}\"}")
        }
        var c = Comparison(baseline: baseline, query: query)
        if let d = f["direction"], let text = reader.string(d, what: "'direction' of \(what)") {
            if let direction = Comparison.Direction(rawValue: text) { c.direction = direction } else {
                reader.error(d, "unknown direction '\(text)'", hint: "lower (lower is better: latency, errors) or higher (accuracy)")
            }
        }
        if let t = f["test"], let text = reader.string(t, what: "'test' of \(what)") {
            if text == "mann-whitney" { c.confidence = 0.95 } else {
                reader.error(t, "unknown test '\(text)'", hint: Suggestion.hint(for: text, in: ["mann-whitney"]) ?? "use mann-whitney")
            }
        }
        if let n = f["confidence"], let value = number(n, what: "'confidence' of \(what)") {
            if f["test"] == nil { reader.error(n, "'confidence' of \(what) is for a test", hint: "add 'test: mann-whitney'") }
            if value > 0.5, value < 1 { c.confidence = c.confidence.map { _ in value } } else {
                reader.error(n, "'confidence' of \(what) must be above 0.5 and below 1, e.g. 0.95")
            }
        }
        if let n = f["max-relative-change"], let value = number(n, what: "'max-relative-change' of \(what)") {
            if value >= 0 { c.maxRelativeChange = value } else { reader.error(n, "'max-relative-change' of \(what) must not be negative (0.1 is 10 % worse)") }
        }
        if c.confidence == nil, c.maxRelativeChange == nil, f["test"] == nil, f["max-relative-change"] == nil {
            reader.error(node, "the comparison of \(what) has nothing to judge by",
                         hint: "add 'test: mann-whitney' and/or 'max-relative-change: 0.1'")
        }
        decodeWindows(f, node: node, into: &c, what: what)
        if let u = f["url"], let url = reader.nonEmptyString(u, what: "'url' of \(what)") { c.url = url }
        return c
    }

    private mutating func decodeWindows(_ f: Fields, node: Node, into c: inout Comparison, what: String) {
        func seconds(_ key: String) -> Int? {
            guard let n = f[key], let text = reader.string(n, what: "'\(key)' of \(what)") else { return nil }
            guard let s = DurationText.seconds(text), s > 0 else {
                reader.error(n, "'\(text)' is not a duration", hint: "write e.g. 30s or 1m")
                return nil
            }
            return s
        }
        if let s = seconds("interval") { c.intervalSeconds = s }
        if let s = seconds("step") { c.stepSeconds = s }
        if let n = f["count"], let count = reader.int(n, what: "'count' of \(what)") {
            if (1...1000).contains(count) { c.count = count } else { reader.error(n, "'count' of \(what) must be between 1 and 1000") }
        }
        if let n = f["min-samples"], let m = reader.int(n, what: "'min-samples' of \(what)") {
            if (3...Comparison.maxSamples).contains(m) { c.minSamples = m } else {
                reader.error(n, "'min-samples' of \(what) must be between 3 and \(Comparison.maxSamples)")
            }
        }
        let located = f["step"] ?? f["interval"]
        if c.step > c.intervalSeconds, let located {
            reader.error(located, "the step of \(what) (\(c.step) s) is longer than its interval (\(c.intervalSeconds) s)")
        } else if c.pointsPerWindow > Comparison.maxPointsPerWindow, let located {
            reader.error(located, "\(what) asks \(c.pointsPerWindow) points per window; Prometheus answers at most \(Comparison.maxPointsPerWindow)",
                         hint: "raise 'step' or shorten 'interval'")
        } else if c.pointsPerWindow * c.count > Comparison.maxSamples, let located {
            reader.error(located, "\(what) would gather \(c.pointsPerWindow * c.count) samples per version; at most \(Comparison.maxSamples) are judged",
                         hint: "raise 'step' or lower 'count'")
        }
        if c.pointsPerWindow * c.count < c.minSamples {
            reader.error(f["count"] ?? located ?? node, "\(what) gathers at most \(c.pointsPerWindow * c.count) samples per version, fewer than min-samples \(c.minSamples): it could never pass",
                         hint: "raise 'count' or 'interval', or lower 'step'")
        }
    }

    private mutating func number(_ n: Node, what: String) -> Double? {
        guard let text = reader.string(n, what: what), let value = Double(text), value.isFinite else {
            reader.error(n, "\(what) must be a number")
            return nil
        }
        return value
    }
}
