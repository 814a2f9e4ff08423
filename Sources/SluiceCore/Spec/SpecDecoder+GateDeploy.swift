/// The `gate` and `deploy` sections of `sluice.yaml`.
extension SpecDecoder {
    mutating func decodeGate(_ node: Node) -> GateSpec? {
        guard let fields = reader.mapping(node, what: "'gate'", allowed: SpecKeys.gate) else { return nil }
        let f = Fields(fields)
        guard let policyNode = f["policy"] else {
            reader.error(node, "'gate' needs 'policy'", hint: "e.g. 'policy: policies/promotion.yaml'")
            return nil
        }
        guard let policy = relativePath(policyNode, what: "'gate.policy'") else { return nil }
        requireExists(policy, policyNode, what: "policy file", kind: .file)
        var baseline = "production"
        if let b = f["baseline"], let text = reader.string(b, what: "'gate.baseline'") {
            if SpecKeys.baselines.contains(text) { baseline = text } else {
                reader.error(b, "unknown baseline '\(text)'", hint: Suggestion.hint(for: text, in: SpecKeys.baselines) ?? "use 'production'")
            }
        }
        var gate = GateSpec(policy: policy, baseline: baseline, location: node.location)
        if let m = f["model"], let name = reader.nonEmptyString(m, what: "'gate.model'") { gate.model = name }
        if let a = f["alias"], let alias = reader.nonEmptyString(a, what: "'gate.alias'") { gate.alias = alias }
        if let b = f["branch"], let branch = reader.nonEmptyString(b, what: "'gate.branch'") {
            gate.branch = branch.hasPrefix("refs/heads/") ? String(branch.dropFirst(11)) : branch
        }
        if let r = f["registry"], let text = reader.string(r, what: "'gate.registry'") {
            if let registry = GateSpec.Registry(rawValue: text) { gate.registry = registry } else {
                reader.error(r, "unknown registry '\(text)'",
                             hint: Suggestion.hint(for: text, in: SpecKeys.registries) ?? "use embedded or mlflow")
            }
        }
        if let a = f["artifact"] { gate.artifact = relativePath(a, what: "'gate.artifact'") }
        if let e = f["experiment"], let name = reader.nonEmptyString(e, what: "'gate.experiment'") { gate.experiment = name }
        if let s = f["signing"], let fields = reader.mapping(s, what: "'gate.signing'", allowed: SpecKeys.signing) {
            let g = Fields(fields)
            var signing = GateSpec.Signing()
            if let k = g["key"] { signing.keyFile = reader.nonEmptyString(k, what: "'gate.signing.key'") }
            if let k = g["key-env"] { signing.keyEnv = reader.nonEmptyString(k, what: "'gate.signing.key-env'") }
            if let k = g["key-id"], let id = reader.nonEmptyString(k, what: "'gate.signing.key-id'") { signing.keyID = id }
            if (g["key"] == nil) == (g["key-env"] == nil) {
                reader.error(s, "'gate.signing' needs one of 'key' (a PEM file where Sluice runs) or 'key-env' (a variable holding the PEM)",
                             hint: "an ECDSA P-256 private key: openssl ecparam -name prime256v1 -genkey -noout -out signing.pem")
            }
            gate.signing = signing
        }
        return gate
    }

    /// `gate.artifact` must name a declared output; the MLflow registry needs to know which
    /// output is the model (it uploads its files and points the model version at them).
    mutating func checkModelOutput(_ spec: PipelineSpec, gateNode: Node) {
        guard let gate = spec.gate else { return }
        let outputs = spec.declaredOutputs
        let artifactNode = gateNode["artifact"] ?? gateNode
        if let named = gate.artifact, spec.modelOutput == nil {
            let all = outputs.map(\.declared)
            reader.error(artifactNode, "'gate.artifact' names '\(named)', which no stage declares in 'outputs'",
                         hint: Suggestion.hint(for: named, in: all)
                            ?? (all.isEmpty ? "declare the model under the training stage's 'outputs'" : "declared outputs: \(all.prefix(10).joined(separator: ", "))"))
        } else if gate.registry == .mlflow, spec.modelOutput == nil {
            let all = outputs.map { "\($0.declared) (stage \($0.stage))" }
            reader.error(gateNode, all.isEmpty
                            ? "the MLflow registry stores the model's files, but no stage declares 'outputs'"
                            : "the MLflow registry stores the model's files, but which output is the model is not clear",
                         hint: all.isEmpty ? "declare the model under the training stage's 'outputs', e.g. 'outputs: [model/]'"
                            : "set 'gate.artifact' to one of: \(all.prefix(10).joined(separator: ", "))")
        }
    }

    mutating func decodeDeploy(_ node: Node) -> DeploySpec? {
        guard let fields = reader.mapping(node, what: "'deploy'", allowed: SpecKeys.deploy) else { return nil }
        return decodeDeployFields(Fields(fields), node: node, section: "deploy")
    }

    /// The deploy settings of `deploy:` or of one of `environments:` (`section` names it in messages).
    mutating func decodeDeployFields(_ f: Fields, node: Node, section: String) -> DeploySpec? {
        guard let mNode = f["manifests"] else {
            reader.error(node, "'\(section)' needs 'manifests'", hint: "e.g. 'manifests: manifests/'")
            return nil
        }
        guard let manifests = relativePath(mNode, what: "'\(section).manifests'") else { return nil }
        requireExists(manifests, mNode, what: "manifests folder", kind: .directory)
        var spec = DeploySpec(manifests: manifests, location: node.location)
        if let t = f["target"], let text = reader.string(t, what: "'\(section).target'") {
            let all = DeploySpec.Target.allCases.map(\.rawValue)
            if let target = DeploySpec.Target(rawValue: text) { spec.target = target } else {
                reader.error(t, "unknown deploy target '\(text)'", hint: Suggestion.hint(for: text, in: all) ?? "use one of: \(all.joined(separator: ", "))")
            }
        }
        if let e = f["environment"], let text = reader.nonEmptyString(e, what: "'\(section).environment'") {
            if Self.isDNSLabel(text) { spec.environment = text } else {
                reader.error(e, "environment '\(text)' must be lower-case letters, digits and '-' (it names a branch and labels)")
            }
        }
        if let n = f["namespace"], let text = reader.nonEmptyString(n, what: "'\(section).namespace'") {
            if Self.isDNSLabel(text) { spec.namespace = text } else {
                reader.error(n, "namespace '\(text)' is not a valid Kubernetes name", hint: "lower-case letters, digits and '-', at most 63 characters")
            }
        }
        if let c = f["context"], let text = reader.nonEmptyString(c, what: "'\(section).context'") { spec.context = text }
        if let fo = f["force"], let b = reader.bool(fo, what: "'\(section).force'") { spec.force = b }
        if let p = f["prune"], let fields = reader.mapping(p, what: "'\(section).prune'", allowed: SpecKeys.prune) {
            for (key, _, value) in fields where key == "namespaces" {
                if let b = reader.bool(value, what: "'\(section).prune.namespaces'") { spec.pruneNamespaces = b }
            }
        }
        if let t = f["timeout"], let text = reader.string(t, what: "'\(section).timeout'") {
            if let seconds = DurationText.seconds(text), seconds > 0 { spec.timeoutSeconds = seconds } else {
                reader.error(t, "'\(text)' is not a duration", hint: "write e.g. 90s, 10m")
            }
        }
        if let r = f["require"], let fields = reader.mapping(r, what: "'\(section).require'", allowed: SpecKeys.require) {
            for (key, _, value) in fields where key == "signature" {
                if let b = reader.bool(value, what: "'\(section).require.signature'") { spec.requiresSignature = b }
            }
        }
        return spec
    }

    /// A deploy that requires a signature checks it with the key the gate signs with.
    mutating func linkSignatureKeys(_ spec: inout PipelineSpec, root: Node) {
        func link(_ deploy: inout DeploySpec) {
            guard deploy.requiresSignature else { return }
            if let signing = spec.gate?.signing { deploy.signatureKey = signing } else {
                reader.error(at: deploy.location, "'require: { signature: true }' of '\(deploy.environment)' needs 'gate.signing' (the key the gate signs models with)",
                             hint: "add gate.signing, or remove the requirement")
            }
        }
        if spec.deploy != nil { link(&spec.deploy!) }
        for i in spec.environments.indices { link(&spec.environments[i].deploy) }
    }

    mutating func decodeSync(_ node: Node) -> SyncSpec? {
        guard let fields = reader.mapping(node, what: "'sync'", allowed: SpecKeys.sync) else { return nil }
        var sync = SyncSpec()
        for (key, _, value) in fields {
            switch key {
            case "interval":
                guard let text = reader.string(value, what: "'sync.interval'") else { continue }
                if let seconds = DurationText.seconds(text), seconds >= 1 { sync.intervalSeconds = seconds } else {
                    reader.error(value, "'\(text)' is not a duration of at least 1s", hint: "write e.g. 5m, 1h")
                }
            case "selfHeal":
                if let b = reader.bool(value, what: "'sync.selfHeal'") { sync.selfHeal = b }
            default: break
            }
        }
        return sync
    }
}
