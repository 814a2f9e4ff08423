/// Content-based stage cache keys: never names or timestamps. Two commits whose stage
/// inputs are byte-identical get the same key, so the stage's outputs can be reused.
public enum CacheKey {
    public static let formatVersion = "sluice-cache-v1"

    /// The key for `stage`, given the keys of the stages it needs.
    public static func compute(stage: StageSpec, spec: PipelineSpec, content: some CommitContent,
                               datasetVersions: [String: String], neededKeys: [String]) -> String {
        var lines: [String] = [formatVersion]
        switch stage.command {
        case .shell(let text)?: lines.append("sh \(escape(text))")
        case .argv(let argv)?: lines.append("argv " + argv.map(escape).joined(separator: " "))
        case nil: break
        }
        if let uses = stage.uses { lines.append("uses \(uses.rawValue)") }
        // On Kubernetes the image is the stage's environment: another image, another result.
        if stage.command != nil, spec.runner.kind == .kubernetes {
            lines.append("image \(escape(stage.pod.image ?? spec.runner.image ?? "-"))")
        }
        for kv in stage.with {
            lines.append("with \(escape(kv.key))=\(escape(kv.value))")
            if kv.key == "data" || kv.key == "schema" || kv.key == "reference" {
                lines.append("input \(escape(kv.value)) \(content.objectID(at: kv.value) ?? "-")")
            }
        }
        for kv in stage.env.sorted(by: { $0.key < $1.key }) { lines.append("env \(escape(kv.key))=\(escape(kv.value))") }
        for out in stage.outputs.sorted() { lines.append("output \(escape(out))") }
        if let metrics = stage.metrics { lines.append("metrics \(escape(metrics))") }
        // A declared plot is read from the stage's files: a cached result must have been made with it.
        for p in stage.plots {
            lines.append("plot \(escape(p.file)) \(p.template.rawValue) \(escape(p.x ?? "")) \(escape(p.y ?? "")) \(escape(p.title ?? ""))")
        }

        if let when = stage.when {
            for glob in when.paths { lines += inputLines(glob, content) }
            for name in when.datasets.sorted() { lines.append("dataset \(datasetVersions[name] ?? "-")") }
        } else {
            // No declared inputs: the stage may read anything, so the whole tree is its input.
            lines.append("tree \(content.rootTreeID)")
        }
        for param in stage.params {
            lines.append("param \(escape(param.file)):\(escape(param.keyPath ?? "")) \(content.parameter(param).map(escape) ?? "-")")
        }
        for key in neededKeys.sorted() { lines.append("need \(key)") }

        return ContentHash.sha256Hex(Array(lines.joined(separator: "\n").utf8))
    }

    /// A folder glob (`src/**`) or a plain path is captured by one object id; any other
    /// glob by the ids of the files it matches below its literal prefix.
    static func inputLines(_ glob: Glob, _ content: some CommitContent) -> [String] {
        if glob.isWholeFolder {
            return ["glob \(escape(glob.pattern)) \(content.objectID(at: glob.literalPrefix) ?? "-")"]
        }
        if let path = glob.literalPath {
            // A plain path (file or folder): its object id is its content.
            return ["glob \(escape(glob.pattern)) \(content.objectID(at: path) ?? "-")"]
        }
        var lines = ["glob \(escape(glob.pattern))"]
        for file in content.files(under: glob.literalPrefix) where glob.matches(file.path) {
            lines.append("file \(escape(file.path)) \(file.id)")
        }
        return lines
    }

    /// Keeps every field on one line whatever the text holds.
    static func escape(_ s: String) -> String {
        var out = ""
        for c in s.unicodeScalars {
            switch c {
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case " ": out += "\\s"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }
}
