public import SluiceCore

/// Reads a metrics file's JSON (or YAML) into a `MetricSet`.
public enum MetricsJSON {
    public static func read(_ text: String, file: String) -> MetricSet? {
        parse(text, file: file).metrics
    }

    public static func parse(_ text: String, file: String) -> (metrics: MetricSet?, diagnostics: [Diagnostic]) {
        do throws(YAMLError) {
            return MetricSet.read(try YAMLParser.parseDocument(Array(text.utf8), file: file), file: file)
        } catch {
            return (nil, [error.diagnostic])
        }
    }
}
