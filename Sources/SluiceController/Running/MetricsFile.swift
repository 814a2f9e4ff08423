import FoundationEssentials
import SluiceCore
import SluiceYAML

/// Reads a stage's metrics file (JSON or YAML) and returns it as canonical JSON.
enum MetricsFile {
    /// The most metrics (flattened keys, slices included) a file may hold, and the longest text value.
    static let keyLimit = 10_000
    static let textLimit = 4096

    static func json(_ name: String, in workspace: String, masker: SecretMasker) throws(LoadError) -> String {
        guard let data = try WorkspaceFile.read(name, in: workspace, what: "metrics") else {
            throw LoadError(message: "the stage did not write its metrics file '\(name)'", hint: "write it, or remove 'metrics' from the stage")
        }
        // JSON is YAML; one parser for both gives located errors for either.
        let parsed: Node?
        do throws(YAMLError) { parsed = try YAMLParser.parseDocument([UInt8](data), file: name) } catch {
            throw LoadError(message: "metrics file is not valid JSON or YAML: \(DiagnosticRenderer.line(error.diagnostic))")
        }
        guard let node = parsed, node.mapping != nil else {
            throw LoadError(message: "metrics file '\(name)' must hold a mapping of metric names to numbers")
        }
        // What is stored with the run stays small: bounded key count and text lengths.
        var count = 0
        var pending = [node]
        while let next = pending.popLast() {
            switch next.value {
            case .mapping(let pairs):
                count += pairs.count
                pending += pairs.flatMap { [$0.key, $0.value] }
            case .sequence(let items):
                count += items.count
                pending += items
            case .scalar(let s):
                guard s.text.utf8.count <= textLimit else {
                    throw LoadError(message: "\(next.location): a value of \(s.text.utf8.count) bytes in metrics file '\(name)'; metrics are numbers (text of at most \(textLimit) bytes)")
                }
            }
            guard count <= keyLimit else {
                throw LoadError(message: "metrics file '\(name)' holds more than \(keyLimit) entries; Sluice stores at most \(keyLimit)",
                                hint: "write the metrics the gate and the report need")
            }
        }
        return NodeJSON.render(masked(node, masker))
    }

    /// The document with every key and text value masked (depth is bounded by the parser).
    static func masked(_ node: Node, _ masker: SecretMasker) -> Node {
        var copy = node
        switch node.value {
        case .scalar(let s):
            let text = masker.mask(s.text)
            if text != s.text { copy.value = .scalar(Scalar(text, isPlain: false)) }
        case .sequence(let items):
            copy.value = .sequence(items.map { masked($0, masker) })
        case .mapping(let pairs):
            copy.value = .mapping(pairs.map { Node.Pair(key: masked($0.key, masker), value: masked($0.value, masker)) })
        }
        return copy
    }
}
