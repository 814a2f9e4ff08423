/// Decodes and checks a `sluice.yaml` document. All problems are collected, each with
/// file:line:col, so the user fixes the whole file in one pass.
public struct SpecDecoder {
    public let file: String
    public let paths: (any PathLookup)?
    var reader = NodeReader()
    private var pendingData: [(String, Node, String)] = []

    /// - Parameters:
    ///   - file: the name printed in diagnostics, e.g. `sluice.yaml`.
    ///   - paths: when given, referenced files (policy, schema, manifests, DVC pointers)
    ///     must exist there.
    public init(file: String, paths: (any PathLookup)? = nil) {
        self.file = file
        self.paths = paths
    }

    /// The spec, or nil when there were errors; diagnostics hold errors and warnings.
    public static func decode(_ document: Node?, file: String, paths: (any PathLookup)? = nil)
        -> (spec: PipelineSpec?, diagnostics: [Diagnostic])
    {
        var decoder = SpecDecoder(file: file, paths: paths)
        let spec = decoder.decode(document)
        let diagnostics = decoder.reader.diagnostics
        return (diagnostics.hasErrors ? nil : spec, diagnostics)
    }

    private mutating func decode(_ document: Node?) -> PipelineSpec? {
        let start = SourceLocation(file: file, line: 1, column: 1)
        guard let root = document, !root.isNull else {
            reader.error(at: start, "the file is empty", hint: "start with 'version: 1' and a 'stages:' mapping")
            return nil
        }
        guard let top = reader.mapping(root, what: "the top level", allowed: SpecKeys.topLevel) else { return nil }
        let byKey = Dictionary(top.map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a })

        var version = 1
        if let v = byKey["version"] {
            if let n = reader.int(v.value, what: "'version'") {
                if SpecKeys.supportedVersions.contains(n) { version = n } else {
                    reader.error(v.value, "unsupported version \(n)", hint: "this Sluice reads version 1")
                }
            }
        } else {
            reader.error(at: root.location, "missing 'version'", hint: "add 'version: 1' at the top")
        }

        let datasets = byKey["datasets"].map { decodeDatasets($0.value) } ?? []
        let runner = byKey["runner"].flatMap { decodeRunner($0.value) } ?? RunnerSpec()
        var stages: [StageSpec] = []
        if let s = byKey["stages"] {
            stages = decodeStages(s.value, datasets: datasets, runner: runner)
        } else {
            reader.error(at: root.location, "missing 'stages'", hint: "declare at least one stage, e.g. 'stages: { test: { run: pytest } }'")
        }
        let gate = byKey["gate"].flatMap { decodeGate($0.value) }
        var deploy = byKey["deploy"].flatMap { decodeDeploy($0.value) }
        let environments = byKey["environments"].map { decodeEnvironments($0.value) } ?? []
        if let both = byKey["environments"], byKey["deploy"] != nil {
            reader.error(both.keyNode, "'environments' and 'deploy' are both set", hint: "'deploy' is the one-environment shorthand: keep 'environments'")
        }
        if let production = environments.last { deploy = production.deploy }
        let sync = byKey["sync"].flatMap { decodeSync($0.value) } ?? SyncSpec()
        var spec = PipelineSpec(file: file, version: version, datasets: datasets, stages: stages, gate: gate, deploy: deploy, sync: sync)
        spec.runner = runner
        spec.environments = environments
        if let preview = byKey["preview"] {
            spec.preview = decodePreview(preview.value, environments: environments, deploy: deploy)
            if gate == nil { reader.error(preview.keyNode, "'preview' deploys the gate's candidate, and there is no 'gate'", hint: "add a 'gate' or remove 'preview'") }
        }
        if let notify = byKey["notify"] { spec.notify = NotificationSettingsDecoder.decodeRepositoryRoutes(notify.value, &reader) }
        linkSignatureKeys(&spec, root: root)
        if let gateNode = byKey["gate"]?.value { checkModelOutput(spec, gateNode: gateNode) }
        return spec
    }

    // MARK: datasets

    private mutating func decodeDatasets(_ node: Node) -> [DatasetSpec] {
        guard let entries = reader.mapping(node, what: "'datasets'") else { return [] }
        var result: [DatasetSpec] = []
        for (name, keyNode, value) in entries {
            checkName(name, keyNode, what: "dataset")
            guard let fields = reader.mapping(value, what: "dataset '\(name)'", allowed: SpecKeys.dataset) else { continue }
            let f = Fields(fields)
            switch (f["path"], f["dvc"]) {
            case (let p?, nil):
                if f["out"] != nil { reader.error(f["out"]!, "'out' is only used with 'dvc: dvc.lock'") }
                guard let path = relativePath(p, what: "'path' of dataset '\(name)'") else { continue }
                requireExists(path, p, what: "dataset '\(name)' path")
                result.append(DatasetSpec(name: name, source: .path(path), location: keyNode.location))
            case (nil, let d?):
                guard let pointer = relativePath(d, what: "'dvc' of dataset '\(name)'") else { continue }
                requireExists(pointer, d, what: "DVC file of dataset '\(name)'", kind: .file)
                if pointer == "dvc.lock" || pointer.hasSuffix("/dvc.lock") {
                    guard let outNode = f["out"] else {
                        reader.error(value, "dataset '\(name)' reads '\(pointer)' but does not say which path",
                                     hint: "add 'out: <path recorded in dvc.lock>'")
                        continue
                    }
                    guard let out = relativePath(outNode, what: "'out' of dataset '\(name)'") else { continue }
                    result.append(DatasetSpec(name: name, source: .dvcLock(file: pointer, path: out), location: keyNode.location))
                } else {
                    if !pointer.hasSuffix(".dvc") {
                        reader.error(d, "'dvc' must name a '.dvc' pointer file or a 'dvc.lock' file, found '\(pointer)'")
                        continue
                    }
                    if let o = f["out"] { reader.error(o, "'out' is only used with 'dvc: dvc.lock'") }
                    result.append(DatasetSpec(name: name, source: .dvcPointer(pointer), location: keyNode.location))
                }
            case (_?, _?):
                reader.error(value, "dataset '\(name)' sets both 'path' and 'dvc'", hint: "keep one")
            case (nil, nil):
                reader.error(value, "dataset '\(name)' needs 'path' (a file or folder in the repository) or 'dvc' (a DVC pointer)")
            }
        }
        return result
    }

    // MARK: stages

    private mutating func decodeStages(_ node: Node, datasets: [DatasetSpec], runner: RunnerSpec) -> [StageSpec] {
        guard let entries = reader.mapping(node, what: "'stages'") else { return [] }
        if entries.isEmpty, node.mapping?.isEmpty == true {
            reader.error(node, "'stages' is empty", hint: "declare at least one stage")
        }
        var stages: [StageSpec] = []
        var needNodes: [String: [(String, Node)]] = [:]
        for (name, keyNode, value) in entries {
            checkName(name, keyNode, what: "stage")
            var stage = StageSpec(name: name, location: keyNode.location)
            guard let fields = reader.mapping(value, what: "stage '\(name)'", allowed: SpecKeys.stage) else { continue }
            let f = Fields(fields)

            if let run = f["run"] { stage.command = decodeCommand(run, stage: name) }
            if let uses = f["uses"], let text = reader.string(uses, what: "'uses' of stage '\(name)'") {
                if let action = StageSpec.Action(rawValue: text) {
                    stage.uses = action
                } else {
                    let all = StageSpec.Action.allCases.map(\.rawValue)
                    reader.error(uses, "unknown built-in action '\(text)' in stage '\(name)'",
                                 hint: Suggestion.hint(for: text, in: all) ?? "available: \(all.joined(separator: ", "))")
                }
            }
            switch (f["run"], f["uses"]) {
            case (nil, nil): reader.error(value, "stage '\(name)' needs 'run' (a command) or 'uses' (a built-in action)")
            case (_?, _?): reader.error(f["uses"]!, "stage '\(name)' sets both 'run' and 'uses'", hint: "keep one")
            default: break
            }
            if let with = f["with"] {
                if stage.uses == nil, f["uses"] == nil {
                    reader.error(with, "'with' gives arguments to a built-in action, but stage '\(name)' has no 'uses'")
                } else if stage.uses != nil {
                    stage.with = decodeWith(with, stage: name)
                }
            } else if stage.uses == .validateData {
                reader.error(value, "stage '\(name)' uses validate-data but has no 'with'", hint: "add 'with: { data: <file>, schema: <schema file> }'")
            }
            if let needs = f["needs"], let list = reader.stringList(needs, what: "'needs' of stage '\(name)'") {
                stage.needs = list.map(\.0)
                needNodes[name] = list
            }
            if let when = f["when"] { stage.when = decodeWhen(when, stage: name, datasets: datasets) }
            if let env = f["env"] { stage.env = decodeEnv(env, stage: name) }
            if let t = f["timeout"], let text = reader.string(t, what: "'timeout' of stage '\(name)'") {
                if let seconds = DurationText.seconds(text) {
                    stage.timeoutSeconds = seconds
                } else {
                    reader.error(t, "'\(text)' is not a duration", hint: "write e.g. 90s, 30m, 1h30m or 2d")
                }
            }
            if let outs = f["outputs"], let list = reader.stringList(outs, what: "'outputs' of stage '\(name)'") {
                stage.outputs = list.compactMap { relativePath($0.1, what: "output of stage '\(name)'") }
            }
            if let m = f["metrics"] { stage.metrics = relativePath(m, what: "'metrics' of stage '\(name)'") }
            if let p = f["plots"] { stage.plots = decodePlots(p, stage: name) }
            if let p = f["params"], let list = reader.stringList(p, what: "'params' of stage '\(name)'") {
                stage.params = list.compactMap { decodeParam($0.0, $0.1, stage: name) }
            }
            if let c = f["cache"], let b = reader.bool(c, what: "'cache' of stage '\(name)'") { stage.cache = b }
            if let s = f["secrets"], let list = reader.stringList(s, what: "'secrets' of stage '\(name)'") {
                for (secret, node) in list {
                    if !Self.isEnvName(secret) || secret.hasPrefix("SLUICE_") {
                        reader.error(node, "'\(secret)' in 'secrets' of stage '\(name)' is not an environment variable name Sluice can pass",
                                     hint: "use letters, digits and '_', not starting with a digit or SLUICE_")
                    } else {
                        stage.secrets.append(secret)
                    }
                }
            }
            decodePod(f, into: &stage, runner: runner)
            stages.append(stage)
        }
        checkNeeds(stages, needNodes)
        // validate-data's file must be in the repository, produced by a stage, or tracked by DVC.
        for (path, node, stage) in pendingData {
            let normalized = RepositoryPath.normalized(path)
            let produced = stages.contains { s in s.outputs.contains { out in
                let o = RepositoryPath.normalized(out)
                return o == normalized || normalized.hasPrefix(o.hasSuffix("/") ? o : o + "/")
            } }
            let tracked = paths.map { $0.kind(of: normalized + ".dvc") != nil } ?? false
            if !produced, !tracked { requireExists(path, node, what: "'data' of stage '\(stage)'") }
        }
        return stages
    }

    mutating func decodeCommand(_ node: Node, stage: String) -> StageSpec.Command? {
        if let items = node.sequence {
            var argv: [String] = []
            for item in items {
                guard item.isScalar, let s = item.string else {
                    reader.error(item, "each argument in 'run' of stage '\(stage)' must be a string, found \(item.kindName)")
                    return nil
                }
                argv.append(s)
            }
            if argv.isEmpty || argv[0].isEmpty {
                reader.error(node, "'run' of stage '\(stage)' is an empty command")
                return nil
            }
            return .argv(argv)
        }
        guard let text = reader.string(node, what: "'run' of stage '\(stage)'") else { return nil }
        if text.trimmingWhitespace().isEmpty {
            reader.error(node, "'run' of stage '\(stage)' is an empty command")
            return nil
        }
        return .shell(text)
    }

    private mutating func decodeWith(_ node: Node, stage: String) -> [KeyValue] {
        guard let fields = reader.mapping(node, what: "'with' of stage '\(stage)'", allowed: SpecKeys.validateDataWith) else { return [] }
        var result: [KeyValue] = []
        for (key, _, value) in fields {
            guard let path = relativePath(value, what: "'\(key)' of stage '\(stage)'") else { continue }
            if key == "schema" { requireExists(path, value, what: "'\(key)' of stage '\(stage)'") }
            if key == "data" { pendingData.append((path, value, stage)) }  // checked once every stage's outputs are known
            result.append(KeyValue(key, path))
        }
        for required in ["data", "schema"] where !fields.contains(where: { $0.key == required }) {
            reader.error(node, "validate-data in stage '\(stage)' needs '\(required)'")
        }
        return result
    }

    private mutating func decodeEnv(_ node: Node, stage: String) -> [KeyValue] {
        guard let fields = reader.mapping(node, what: "'env' of stage '\(stage)'") else { return [] }
        var result: [KeyValue] = []
        for (key, keyNode, value) in fields {
            if !Self.isEnvName(key) {
                reader.error(keyNode, "'\(key)' is not a valid environment variable name", hint: "use letters, digits and '_', not starting with a digit")
                continue
            }
            if key.hasPrefix("SLUICE_") {
                reader.error(keyNode, "'\(key)' is reserved: Sluice sets SLUICE_* variables itself")
                continue
            }
            guard value.isScalar, let text = value.string else {
                reader.error(value, "env value of '\(key)' must be a string or number, found \(value.kindName)")
                continue
            }
            result.append(KeyValue(key, text))
        }
        return result
    }

    private mutating func decodeParam(_ text: String, _ node: Node, stage: String) -> ParamRef? {
        let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
        guard let file = parts.first, !file.isEmpty else {
            reader.error(node, "'params' entry of stage '\(stage)' is empty")
            return nil
        }
        let check = Node(.scalar(Scalar(file)), at: node.location)
        guard relativePath(check, what: "params file of stage '\(stage)'") != nil else { return nil }
        requireExists(file, node, what: "params file of stage '\(stage)'", kind: .file)
        return ParamRef(file: file, keyPath: parts.count > 1 && !parts[1].isEmpty ? parts[1] : nil)
    }

    private mutating func checkNeeds(_ stages: [StageSpec], _ needNodes: [String: [(String, Node)]]) {
        let names = stages.map(\.name)
        let known = Set(names)
        for name in names {  // by name: a loop over the stages would copy each one
            var seen = Set<String>()
            for (need, node) in needNodes[name] ?? [] {
                if need == name {
                    reader.error(node, "stage '\(name)' needs itself", hint: "remove '\(need)' from its 'needs'")
                } else if !known.contains(need) {
                    let others = names.filter { $0 != name }
                    reader.error(node, "stage '\(name)' needs unknown stage '\(need)'",
                                 hint: Suggestion.hint(for: need, in: others)
                                    ?? (others.isEmpty ? "declare it under 'stages'" : "known stages: \(others.prefix(10).joined(separator: ", "))"))
                } else if !seen.insert(need).inserted {
                    reader.warning(node, "stage '\(name)' lists '\(need)' twice in 'needs'")
                }
            }
        }
        // Self-needs are reported above; the graph leaves them out.
        let graph = NeedsGraph(names: names, needs: Dictionary(uniqueKeysWithValues: needNodes.map { name, list in
            (name, list.map(\.0).filter { $0 != name })
        }))
        for cycle in graph.cycles() {
            let first = cycle[0], second = cycle[1]
            let node = needNodes[first]?.first { $0.0 == second }?.1
            let location = node?.location ?? stages.first { $0.name == first }?.location ?? SourceLocation(file: file, line: 1, column: 1)
            reader.error(at: location, "cycle in 'needs': \(cycle.joined(separator: " -> "))",
                         hint: "remove one of these needs so the stages can be ordered")
        }
    }

    // MARK: shared checks

    private mutating func checkName(_ name: String, _ node: Node, what: @autoclosure () -> String) {
        let ok = !name.isEmpty && name.unicodeScalars.allSatisfy {
            (("0"..."9").contains($0) || ("a"..."z").contains($0) || ("A"..."Z").contains($0) || $0 == "_" || $0 == "-" || $0 == ".")
        } && name.first != "-" && name.first != "."
        if !ok { reader.error(node, "\(what()) name '\(name)' may use only letters, digits, '_', '-' and '.'") }
    }

    /// A repository-relative path: not absolute, no `..`, not empty.
    mutating func relativePath(_ node: Node, what: @autoclosure () -> String) -> String? {
        guard let text = reader.nonEmptyString(node, what: what()) else { return nil }
        if text.hasPrefix("/") {
            reader.error(node, "\(what()) must be relative to the repository root, found '\(text)'")
            return nil
        }
        if RepositoryPath.hasParentSegment(text) {
            reader.error(node, "\(what()) must stay inside the repository, found '\(text)'")
            return nil
        }
        var path = text
        while path.hasPrefix("./") { path.removeFirst(2) }
        return path
    }

    mutating func requireExists(_ path: String, _ node: Node, what: @autoclosure () -> String, kind: PathKind? = nil) {
        guard let paths else { return }
        switch paths.kind(of: RepositoryPath.normalized(path)) {
        case nil: reader.error(node, "\(what()) '\(path)' does not exist in the repository")
        case .symlink?:
            reader.error(node, "\(what()) '\(path)' is a symbolic link; Sluice reads only files committed as files (a link can point outside the repository)",
                         hint: "commit the file itself instead of a link to it")
        case let found? where kind != nil && found != kind:
            reader.error(node, "\(what()) '\(path)' is a \(found.rawValue), expected a \(kind!.rawValue)")
        default: break
        }
    }

    static func isEnvName(_ s: String) -> Bool {
        guard let first = s.unicodeScalars.first, !("0"..."9").contains(first) else { return false }
        return s.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "_" }
    }

    static func isDNSLabel(_ s: String) -> Bool {
        guard (1...63).contains(s.count), s.first != "-", s.last != "-" else { return false }
        return s.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" }
    }
}
