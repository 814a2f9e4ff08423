/// Renders diagnostics as `path:line:col: error: message (hint)`, the format editors
/// and compilers use, so that terminals and IDEs make them clickable.
public enum DiagnosticRenderer {
    public static func line(_ d: Diagnostic) -> String {
        var text = "\(d.location): \(d.severity.rawValue): \(d.message)"
        if let hint = d.hint { text += "; \(hint)" }
        return text
    }

    /// Sorted by file, line and column so output is stable.
    public static func text(_ diagnostics: [Diagnostic]) -> String {
        sorted(diagnostics).map(line).joined(separator: "\n")
    }

    public static func sorted(_ diagnostics: [Diagnostic]) -> [Diagnostic] {
        diagnostics.sorted {
            ($0.location.file, $0.location.line, $0.location.column, $0.message)
                < ($1.location.file, $1.location.line, $1.location.column, $1.message)
        }
    }
}
