/// `environments:` — the ordered environments a model version moves down.
extension SpecDecoder {
    mutating func decodeEnvironments(_ node: Node) -> [EnvironmentSpec] {
        guard let items = node.sequence else {
            reader.error(node, "'environments' must be a list, found \(node.kindName)", hint: "e.g. 'environments: [ { name: staging, manifests: manifests/ } ]'")
            return []
        }
        if items.isEmpty { reader.error(node, "'environments' is empty", hint: "list at least one, or use 'deploy:'") }
        var result: [EnvironmentSpec] = []
        var seen: [String: SourceLocation] = [:]
        for (index, item) in items.enumerated() {
            guard let fields = reader.mapping(item, what: "environment \(index + 1)", allowed: SpecKeys.environment) else { continue }
            let f = Fields(fields)
            guard let nameNode = f["name"], let name = reader.nonEmptyString(nameNode, what: "'name' of environment \(index + 1)") else {
                if f["name"] == nil { reader.error(item, "environment \(index + 1) needs a 'name'", hint: "e.g. 'name: staging'") }
                continue
            }
            guard Self.isDNSLabel(name) else {
                reader.error(nameNode, "environment '\(name)' must be lower-case letters, digits and '-' (it names a branch and labels)")
                continue
            }
            // A second entry of a name is still read, for its own errors, but not kept.
            let duplicate = seen[name] != nil
            if let first = seen[name] {
                reader.error(nameNode, "environment '\(name)' is listed twice", hint: "first at \(first.line):\(first.column)")
            }
            seen[name] = seen[name] ?? nameNode.location
            let section = "environments.\(name)"
            guard var deploy = decodeDeployFields(f, node: item, section: section) else { continue }
            deploy.environment = name
            if let v = f["values"], let pairs = reader.mapping(v, what: "'\(section).values'") {
                for (key, _, value) in pairs {
                    if value.isScalar, let text = value.string {
                        deploy.values.append(KeyValue(key, text))
                    } else {
                        reader.error(value, "'\(section).values.\(key)' must be a string, number or boolean, found \(value.kindName)")
                    }
                }
            }
            var environment = EnvironmentSpec(deploy: deploy, location: item.location)
            if let p = f["promote"], let text = reader.string(p, what: "'\(section).promote'") {
                if let promote = EnvironmentSpec.Promotion(rawValue: text) { environment.promote = promote } else {
                    reader.error(p, "unknown promotion '\(text)'", hint: Suggestion.hint(for: text, in: ["auto", "manual"]) ?? "use auto or manual")
                }
            }
            if let s = f["soak"], let text = reader.string(s, what: "'\(section).soak'") {
                if let seconds = DurationText.seconds(text) { environment.soakSeconds = seconds } else {
                    reader.error(s, "'\(text)' is not a duration", hint: "write e.g. 10m, 1h or 0s")
                }
            }
            let place: ComparisonPlace = index == items.count - 1 ? .production : .verify
            if let v = f["verify"] { environment.verify = decodeVerify(v, section: section, place: place) }
            if let s = f["strategy"] {
                environment.canary = decodeStrategy(s, section: section)
                if environment.canary != nil, deploy.target != .kubernetes {
                    reader.error(s, "a canary needs the kubernetes target: \(name) deploys to a branch", hint: "set 'target: kubernetes' or remove 'strategy'")
                }
            }
            if !duplicate { result.append(environment) }
        }
        return result
    }

    private mutating func decodeStrategy(_ node: Node, section: String) -> CanaryStrategy? {
        guard let fields = reader.mapping(node, what: "'\(section).strategy'", allowed: SpecKeys.strategy) else { return nil }
        guard let c = Fields(fields)["canary"],
              let canary = reader.mapping(c, what: "'\(section).strategy.canary'", allowed: SpecKeys.canary) else {
            reader.error(node, "'\(section).strategy' needs 'canary'", hint: "e.g. 'canary: { steps: [10, 50, 100], pause: 5m }'")
            return nil
        }
        let f = Fields(canary)
        var steps: [Int] = []
        if let s = f["steps"] {
            guard let items = s.sequence else {
                reader.error(s, "'steps' of the canary must be a list of percentages, e.g. [10, 50, 100]")
                return nil
            }
            for item in items {
                guard let n = reader.int(item, what: "a canary step") else { continue }
                if !(1...100).contains(n) { reader.error(item, "canary step \(n) is not a percentage from 1 to 100") }
                else if let last = steps.last, n <= last { reader.error(item, "canary steps must rise: \(n) comes after \(last)") }
                else { steps.append(n) }
            }
            if steps.last != 100 { reader.error(s, "the last canary step must be 100", hint: "e.g. [10, 50, 100]: at 100 the environment takes the version") }
        } else {
            reader.error(c, "the canary needs 'steps'", hint: "e.g. 'steps: [10, 50, 100]'")
        }
        var strategy = CanaryStrategy(steps: steps, pauseSeconds: 300)
        if let p = f["pause"], let text = reader.string(p, what: "'pause' of the canary") {
            if let seconds = DurationText.seconds(text) { strategy.pauseSeconds = seconds } else {
                reader.error(p, "'\(text)' is not a duration", hint: "write e.g. 5m or 30s")
            }
        }
        if let a = f["analysis"] { strategy.analysis = decodeVerify(a, section: "\(section).strategy.canary.analysis", place: .canary) }
        return strategy
    }

    private mutating func decodeVerify(_ node: Node, section: String, place: ComparisonPlace) -> [VerifyCheck] {
        guard let items = node.sequence else {
            reader.error(node, "'\(section).verify' must be a list of checks, found \(node.kindName)")
            return []
        }
        var checks: [VerifyCheck] = []
        var names: Set<String> = []
        for (index, item) in items.enumerated() {
            guard let fields = reader.mapping(item, what: "check \(index + 1) of '\(section).verify'", allowed: SpecKeys.verify) else { continue }
            let f = Fields(fields)
            let name = f["name"].flatMap { reader.nonEmptyString($0, what: "'name' of a check in '\(section).verify'") } ?? "check-\(index + 1)"
            if !names.insert(name).inserted { reader.error(f["name"] ?? item, "two checks of '\(section).verify' are named '\(name)'") }
            let what = "check '\(name)' of '\(section).verify'"
            if let c = f["compare"] {
                if f["run"] != nil || f["prometheus"] != nil {
                    reader.error(item, "\(what) sets 'compare' and also 'run' or 'prometheus'", hint: "one check does one thing: split it")
                } else {
                    for key in ["timeout", "image"] { if let n = f[key] { reader.error(n, "'\(key)' is for command checks; a comparison asks Prometheus") } }
                    if let comparison = decodeComparison(c, what: what, place: place) {
                        checks.append(VerifyCheck(name: name, kind: .comparison(comparison), location: item.location))
                    }
                }
                continue
            }
            switch (f["run"], f["prometheus"]) {
            case (let run?, nil):
                guard let command = decodeCommand(run, stage: name) else { continue }
                var timeout = 600
                if let t = f["timeout"], let text = reader.string(t, what: "'timeout' of \(what)") {
                    if let seconds = DurationText.seconds(text), seconds > 0 { timeout = seconds } else {
                        reader.error(t, "'\(text)' is not a duration", hint: "write e.g. 90s or 10m")
                    }
                }
                var check = VerifyCheck(name: name, kind: .command(command, timeoutSeconds: timeout), location: item.location)
                if let i = f["image"] { check.image = reader.nonEmptyString(i, what: "'image' of \(what)") }
                checks.append(check)
            case (nil, let p?):
                if let t = f["timeout"] { reader.error(t, "'timeout' is for command checks; an analysis lasts count × interval") }
                if let i = f["image"] { reader.error(i, "'image' is for command checks; an analysis asks Prometheus") }
                if let analysis = decodeAnalysis(p, what: what) {
                    checks.append(VerifyCheck(name: name, kind: .analysis(analysis), location: item.location))
                }
            case (_?, _?):
                reader.error(item, "\(what) sets both 'run' and 'prometheus'", hint: "one check does one thing: split it in two")
            case (nil, nil):
                reader.error(item, "\(what) needs 'run' (a command), 'prometheus' (an analysis) or 'compare' (a comparison with a baseline version)")
            }
        }
        return checks
    }

    private mutating func decodeAnalysis(_ node: Node, what: String) -> Analysis? {
        guard let fields = reader.mapping(node, what: "'prometheus' of \(what)", allowed: SpecKeys.analysis) else { return nil }
        let f = Fields(fields)
        guard let q = f["query"], let query = reader.nonEmptyString(q, what: "'query' of \(what)") else {
            if f["query"] == nil { reader.error(node, "the analysis of \(what) needs a 'query'") }
            return nil
        }
        var analysis = Analysis(query: query)
        func number(_ key: String) -> Double? {
            guard let n = f[key] else { return nil }
            guard let text = reader.string(n, what: "'\(key)' of \(what)"), let value = Double(text), value.isFinite else {
                reader.error(n, "'\(key)' of \(what) must be a number")
                return nil
            }
            return value
        }
        analysis.min = number("min")
        analysis.max = number("max")
        if analysis.min == nil, analysis.max == nil {
            reader.error(node, "the analysis of \(what) has no bound", hint: "add 'max: 0.01' and/or 'min: 0.99': without one, every measurement would pass")
        }
        if let lo = analysis.min, let hi = analysis.max, lo > hi { reader.error(node, "'min' \(lo) is above 'max' \(hi) in \(what)") }
        if let i = f["interval"], let text = reader.string(i, what: "'interval' of \(what)") {
            if let seconds = DurationText.seconds(text), seconds > 0 { analysis.intervalSeconds = seconds } else {
                reader.error(i, "'\(text)' is not a duration", hint: "write e.g. 30s or 1m")
            }
        }
        if let c = f["count"], let n = reader.int(c, what: "'count' of \(what)") {
            if (1...1000).contains(n) { analysis.count = n } else { reader.error(c, "'count' of \(what) must be between 1 and 1000") }
        }
        if let l = f["failureLimit"], let n = reader.int(l, what: "'failureLimit' of \(what)") {
            if n >= 0 { analysis.failureLimit = n } else { reader.error(l, "'failureLimit' of \(what) must not be negative") }
        }
        if let u = f["url"], let url = reader.nonEmptyString(u, what: "'url' of \(what)") { analysis.url = url }
        return analysis
    }
}
