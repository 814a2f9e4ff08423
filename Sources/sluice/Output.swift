import ArgumentParser
import FoundationEssentials
import SluiceController
import SluiceCore

#if canImport(Glibc)
import Glibc
#endif

/// Writing to the terminal and turning failures into the documented exit codes:
/// 0 success, 1 failure / rejected, 2 could not do the work.
enum Output {
    static func out(_ text: String) { print(text) }

    /// "1 stage", "5 stages", "1 repository", "2 repositories".
    static func count(_ n: Int, _ singular: String, _ plural: String? = nil) -> String {
        "\(n) \(n == 1 ? singular : plural ?? singular + "s")"
    }

    /// A line on stdout written at once, not buffered (a long-running process's log).
    static func immediate(_ text: String) {
        let line = text.hasSuffix("\n") ? text : text + "\n"
        _ = line.utf8CString.withUnsafeBufferPointer { write(STDOUT_FILENO, $0.baseAddress, $0.count - 1) }
    }

    static func err(_ text: String) {
        var line = text
        if !line.hasSuffix("\n") { line += "\n" }
        _ = line.utf8CString.withUnsafeBufferPointer { write(STDERR_FILENO, $0.baseAddress, $0.count - 1) }
    }

    static func json<T: Encodable>(_ value: T) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        print(String(decoding: try encoder.encode(value), as: UTF8.self))
    }

    /// One JSON object on one line (JSON lines, for streams such as `logs --follow`).
    static func jsonLine<T: Encodable>(_ value: T) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        print(String(decoding: try encoder.encode(value), as: UTF8.self))
    }

    /// Prints a gate report (Markdown, or JSON) and fails with exit 1 when the gate did not pass.
    static func gateReport(_ report: GateReport, format: OutputFormat) throws {
        switch format {
        case .json: try json(report)
        case .text: out(GateReportMarkdown.render(report))
        }
        if !report.passed { throw ExitCode(1) }
    }

    /// Reports a could-not-do-the-work error on stderr and exits 2.
    static func fail(_ error: any Error) -> ExitCode {
        // Located diagnostics already say "file:line:col: error: ..."; say "error" once.
        let text = "\(error)"
        err(text.contains(": error: ") ? "sluice: \(text)" : "sluice: error: \(text)")
        return ExitCode(2)
    }
}
