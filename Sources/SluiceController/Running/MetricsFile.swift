import FoundationEssentials
import SluiceCore
import SluiceYAML

/// Reads a stage's metrics file (JSON or YAML) and returns it as canonical JSON.
enum MetricsFile {
    static func json(at path: String, shownAs name: String) throws(LoadError) -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
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
        return NodeJSON.render(node)
    }
}
