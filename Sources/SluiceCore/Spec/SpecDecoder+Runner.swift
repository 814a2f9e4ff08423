/// `runner:` and the stage keys that shape a stage's pod (`image`, `resources`,
/// `nodeSelector`, `tolerations`).
extension SpecDecoder {
    mutating func decodeRunner(_ node: Node) -> RunnerSpec? {
        guard let fields = reader.mapping(node, what: "'runner'", allowed: SpecKeys.runner) else { return nil }
        let f = Fields(fields)
        var runner = RunnerSpec(location: node.location)
        if let k = f["kind"], let text = reader.string(k, what: "'runner.kind'") {
            if let kind = RunnerSpec.Kind(rawValue: text) { runner.kind = kind } else {
                reader.error(k, "unknown runner '\(text)'", hint: Suggestion.hint(for: text, in: SpecKeys.runnerKinds) ?? "use local or kubernetes")
            }
        }
        if let n = f["namespace"], let ns = reader.nonEmptyString(n, what: "'runner.namespace'") {
            if Self.isDNSLabel(ns) { runner.namespace = ns } else {
                reader.error(n, "'\(ns)' is not a namespace name", hint: "lower-case letters, digits and '-', at most 63 characters")
            }
        }
        if let s = f["serviceAccount"], let name = reader.nonEmptyString(s, what: "'runner.serviceAccount'") { runner.serviceAccount = name }
        if let i = f["image"], let image = reader.nonEmptyString(i, what: "'runner.image'") { runner.image = image }
        if let p = f["imagePullSecrets"], let list = reader.stringList(p, what: "'runner.imagePullSecrets'") { runner.imagePullSecrets = list.map(\.0) }
        if let t = f["ttlSecondsAfterFinished"], let n = reader.int(t, what: "'runner.ttlSecondsAfterFinished'") {
            if n >= 0 { runner.ttlSecondsAfterFinished = n } else { reader.error(t, "'runner.ttlSecondsAfterFinished' must not be negative") }
        }
        if let t = f["pendingTimeout"], let text = reader.string(t, what: "'runner.pendingTimeout'") {
            if let seconds = DurationText.seconds(text) { runner.pendingTimeoutSeconds = seconds } else {
                reader.error(t, "'\(text)' is not a duration", hint: "write e.g. 90s, 10m or 1h")
            }
        }
        if let c = f["context"], let name = reader.nonEmptyString(c, what: "'runner.context'") { runner.context = name }
        if runner.kind == .local {
            for key in ["namespace", "serviceAccount", "image", "imagePullSecrets", "ttlSecondsAfterFinished", "pendingTimeout", "context"] {
                if let n = f[key] { reader.warning(n, "'runner.\(key)' is only used with 'kind: kubernetes'") }
            }
        }
        return runner
    }

    mutating func decodePod(_ f: Fields, into stage: inout StageSpec, runner: RunnerSpec) {
        let name = stage.name
        if let i = f["image"], let image = reader.nonEmptyString(i, what: "'image' of stage '\(name)'") { stage.pod.image = image }
        if let r = f["resources"] { decodeResources(r, into: &stage.pod, stage: name) }
        if let n = f["nodeSelector"], let pairs = reader.mapping(n, what: "'nodeSelector' of stage '\(name)'") {
            for (key, _, value) in pairs {
                if let v = reader.string(value, what: "'nodeSelector.\(key)' of stage '\(name)'") { stage.pod.nodeSelector.append(KeyValue(key, v)) }
            }
        }
        if let t = f["tolerations"] {
            if let items = t.sequence {
                for item in items { if let tol = decodeToleration(item, stage: name) { stage.pod.tolerations.append(tol) } }
            } else {
                reader.error(t, "'tolerations' of stage '\(name)' must be a list, found \(t.kindName)")
            }
        }
        guard runner.kind == .local else { return }
        // A GPU cannot be handed to a process; silently running without one would train for days.
        if stage.pod.gpus != nil, let node = f["resources"] {
            reader.error(node["gpu"] ?? node["limits"]?["gpu"] ?? node, "stage '\(name)' requests a GPU, but stages run on the local runner",
                         hint: "set 'runner: { kind: kubernetes }' (or run with 'sluice run --runner kubernetes')")
        }
        for key in ["image", "nodeSelector", "tolerations"] {
            if let n = f[key] { reader.warning(n, "'\(key)' of stage '\(name)' is only used by the Kubernetes runner") }
        }
    }

    private mutating func decodeResources(_ node: Node, into pod: inout PodSettings, stage: String) {
        guard let fields = reader.mapping(node, what: "'resources' of stage '\(stage)'", allowed: SpecKeys.resources) else { return }
        var requests: [KeyValue] = [], limits: [KeyValue] = []
        for (key, _, value) in fields {
            switch key {
            case "requests", "limits":
                guard let entries = reader.mapping(value, what: "'resources.\(key)' of stage '\(stage)'", allowed: SpecKeys.resourceNames) else { continue }
                for (resource, _, q) in entries {
                    guard let kv = quantity(q, resource: resource, stage: stage, what: "resources.\(key).\(resource)") else { continue }
                    if key == "requests" { requests.append(kv) } else { limits.append(kv) }
                }
            default:
                // A shorthand sets request and limit alike (the pod gets what it asks for, no more).
                guard let kv = quantity(value, resource: key, stage: stage, what: "resources.\(key)") else { continue }
                requests.append(kv)
                limits.append(kv)
            }
        }
        // Kubernetes takes extended resources (GPUs) as limits; a request must equal the limit.
        if let gpu = requests.first(where: { $0.key == PodSettings.gpuResource }) {
            if let limit = limits.first(where: { $0.key == PodSettings.gpuResource }), limit.value != gpu.value {
                reader.error(node, "stage '\(stage)' requests \(gpu.value) GPUs but limits them to \(limit.value)", hint: "GPUs are not shared: give one number")
            }
            if !limits.contains(where: { $0.key == PodSettings.gpuResource }) { limits.append(gpu) }
        }
        for r in requests {
            guard let l = limits.first(where: { $0.key == r.key }), let rv = Quantity.value(r.value), let lv = Quantity.value(l.value), rv > lv else { continue }
            reader.error(node, "stage '\(stage)' requests \(r.key) \(r.value), more than its limit \(l.value)", hint: "a request must not exceed the limit")
        }
        pod.requests = requests.filter { $0.key != PodSettings.gpuResource }
        pod.limits = limits
    }

    private mutating func quantity(_ node: Node, resource: String, stage: String, what: String) -> KeyValue? {
        guard let text = reader.string(node, what: "'\(what)' of stage '\(stage)'") else { return nil }
        let name = resource == "gpu" ? PodSettings.gpuResource : resource
        guard let value = Quantity.value(text) else {
            let example = resource == "memory" ? "4Gi (gibibytes), 512Mi or 4G" : resource == "cpu" ? "2, 1.5 or 500m (millicores)" : "1"
            reader.error(node, "'\(text)' is not a Kubernetes quantity (\(what) of stage '\(stage)')", hint: "write e.g. \(example)")
            return nil
        }
        if value <= 0 {
            reader.error(node, "\(what) of stage '\(stage)' must be more than zero, found '\(text)'")
            return nil
        }
        if resource == "gpu", value.rounded() != value {
            reader.error(node, "stage '\(stage)' asks for \(text) GPUs; GPUs are whole devices", hint: "write a whole number, e.g. 1")
            return nil
        }
        return KeyValue(name, text)
    }

    private mutating func decodeToleration(_ node: Node, stage: String) -> Toleration? {
        guard let fields = reader.mapping(node, what: "a toleration of stage '\(stage)'", allowed: SpecKeys.toleration) else { return nil }
        let f = Fields(fields)
        var t = Toleration()
        if let k = f["key"] { t.key = reader.string(k, what: "'key' of a toleration of stage '\(stage)'") }
        if let o = f["operator"], let op = reader.string(o, what: "'operator' of a toleration of stage '\(stage)'") {
            if ["Exists", "Equal"].contains(op) { t.operator = op } else {
                reader.error(o, "unknown toleration operator '\(op)'", hint: Suggestion.hint(for: op, in: ["Exists", "Equal"]) ?? "use Exists or Equal")
            }
        }
        if let v = f["value"] { t.value = reader.string(v, what: "'value' of a toleration of stage '\(stage)'") }
        if let e = f["effect"], let effect = reader.string(e, what: "'effect' of a toleration of stage '\(stage)'") {
            let effects = ["NoSchedule", "PreferNoSchedule", "NoExecute"]
            if effects.contains(effect) { t.effect = effect } else {
                reader.error(e, "unknown taint effect '\(effect)'", hint: Suggestion.hint(for: effect, in: effects) ?? "use \(effects.joined(separator: ", "))")
            }
        }
        if let s = f["tolerationSeconds"] { t.tolerationSeconds = reader.int(s, what: "'tolerationSeconds' of a toleration of stage '\(stage)'") }
        if t.operator == "Exists", t.value != nil, let v = f["value"] {
            reader.error(v, "a toleration with operator Exists takes no value", hint: "drop 'value' or use operator Equal")
        }
        return t
    }
}
