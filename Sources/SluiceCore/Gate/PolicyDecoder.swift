/// Decodes a policy file, collecting every problem with its location (like `SpecDecoder`).
public enum PolicyDecoder {
    public static let topLevelKeys = ["rules", "required"]
    public static let ruleKeys = ["metric", "direction", "min", "max", "vs-production", "slices"]
    public static let changeKeys = ["tolerance", "improvement"]
    public static let amountKeys = ["absolute", "relative"]

    public static func decode(_ root: Node?, file: String) -> (policy: Policy?, diagnostics: [Diagnostic]) {
        var reader = NodeReader()
        guard let root else {
            return (nil, [.error(at: SourceLocation(file: file, line: 1, column: 1), "the policy file is empty",
                                 hint: "add 'rules:' with at least one '- metric: ...'")])
        }
        guard let fields = reader.mapping(root, what: "the policy", allowed: topLevelKeys) else { return (nil, reader.diagnostics) }
        var policy = Policy(file: file, rules: [])
        var sawRules = false
        for (key, _, value) in fields {
            switch key {
            case "rules":
                sawRules = true
                guard let items = value.sequence else {
                    reader.error(value, "'rules' must be a list of rules, found \(value.kindName)", hint: "start each rule with '- metric: <name>'")
                    continue
                }
                if items.isEmpty { reader.error(value, "'rules' is empty") }
                policy.rules = items.compactMap { decodeRule($0, reader: &reader) }
            case "required":
                policy.required = reader.stringList(value, what: "'required'")?.map(\.0) ?? []
            default: break
            }
        }
        if !sawRules { reader.error(root, "the policy has no 'rules'", hint: "add 'rules:' with at least one '- metric: ...'") }
        return (reader.diagnostics.hasErrors ? nil : policy, reader.diagnostics)
    }

    private static func decodeRule(_ node: Node, reader: inout NodeReader) -> Policy.Rule? {
        guard let fields = reader.mapping(node, what: "a rule", allowed: ruleKeys) else { return nil }
        let f = Fields(fields)
        guard let metricNode = f["metric"] else {
            reader.error(node, "a rule has no 'metric'", hint: "name the metric, e.g. 'metric: accuracy'")
            return nil
        }
        guard let metric = reader.nonEmptyString(metricNode, what: "'metric'") else { return nil }
        let directions = Policy.Direction.allCases.map(\.rawValue)
        guard let directionNode = f["direction"] else {
            reader.error(node, "rule for '\(metric)' has no 'direction'", hint: "add 'direction: higher' or 'direction: lower' (which is better)")
            return nil
        }
        guard let text = reader.string(directionNode, what: "'direction'") else { return nil }
        guard let direction = Policy.Direction(rawValue: text) else {
            reader.error(directionNode, "unknown direction '\(text)' for '\(metric)'",
                         hint: Suggestion.hint(for: text, in: directions) ?? "use higher or lower (which is better)")
            return nil
        }
        var rule = Policy.Rule(metric: metric, direction: direction, location: metricNode.location)
        for (key, _, value) in fields {
            switch key {
            case "min", "max":
                guard let d = value.double, !d.isNaN, case .scalar(let s) = value.value, s.isPlain else {
                    reader.error(value, "'\(key)' of '\(metric)' must be a number, found \(value.kindName)")
                    continue
                }
                if key == "min" { rule.min = d } else { rule.max = d }
            case "vs-production":
                rule.vsProduction = decodeChange(value, metric: metric, reader: &reader)
            case "slices":
                if let s = value.string, case .scalar = value.value, s == "all" {
                    rule.slices = .all
                } else if let list = reader.stringList(value, what: "'slices' of '\(metric)'") {
                    rule.slices = .named(list.map(\.0))
                }
            default: break
            }
        }
        if let lo = rule.min, let hi = rule.max, lo > hi {
            reader.error(node, "'min' (\(lo)) of '\(metric)' is larger than 'max' (\(hi)): no value can pass")
        }
        return rule
    }

    private static func decodeChange(_ node: Node, metric: String, reader: inout NodeReader) -> Policy.ChangeBound? {
        guard let fields = reader.mapping(node, what: "'vs-production' of '\(metric)'", allowed: changeKeys) else { return nil }
        if fields.count != 1 {
            reader.error(node, "'vs-production' of '\(metric)' needs exactly one of 'tolerance' (may be worse by at most) or 'improvement' (must be better by at least)")
            return nil
        }
        let (key, _, value) = fields[0]
        let kind = Policy.ChangeBound.Kind(rawValue: key)!
        var amounts: [Policy.Amount] = []
        if value.mapping != nil {
            guard let parts = reader.mapping(value, what: "'\(key)' of '\(metric)'", allowed: amountKeys) else { return nil }
            for (k, _, v) in parts {
                guard let a = amount(v, what: "'\(key).\(k)' of '\(metric)'", reader: &reader) else { continue }
                if k == "absolute", case .relative = a { reader.error(v, "'\(key).absolute' of '\(metric)' must be a plain number, not a percentage") }
                if k == "relative", case .absolute = a { reader.error(v, "'\(key).relative' of '\(metric)' must be a percentage such as 1%") }
                amounts.append(a)
            }
        } else if let a = amount(value, what: "'\(key)' of '\(metric)'", reader: &reader) {
            amounts.append(a)
        }
        return amounts.isEmpty ? nil : Policy.ChangeBound(kind: kind, amounts: amounts)
    }

    private static func amount(_ node: Node, what: String, reader: inout NodeReader) -> Policy.Amount? {
        guard case .scalar(let s) = node.value, !node.isNull else {
            reader.error(node, "\(what) must be a number or a percentage such as 1%, found \(node.kindName)")
            return nil
        }
        let text = s.text.trimmingWhitespace()
        if text.hasSuffix("%"), let v = Double(String(text.dropLast()).trimmingWhitespace()), v.isFinite, v >= 0 {
            return .relative(v / 100)
        }
        if s.isPlain, let v = node.double, v.isFinite, v >= 0 { return .absolute(v) }
        reader.error(node, "\(what) must be a non-negative number or a percentage such as 1%, found '\(text)'")
        return nil
    }
}
