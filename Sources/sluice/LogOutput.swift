import FoundationEssentials
import ArgumentParser
import Logging
import SluiceCore
#if canImport(Glibc)
import Glibc
#endif

/// The controller's log: one line per event on stderr, as text
/// (`2026-11-29T18:41:22Z info repository=iris run=4 verdict=promote: verdict promote`) or as
/// one JSON object per line (`--log-format json`) for log collectors. Every value passes
/// through the secret masker first, so a token in an error message never reaches the log.
struct LogOutput: LogHandler {
    enum Format: String, CaseIterable, Sendable { case text, json }

    let label: String
    let format: Format
    let masker: SecretMasker
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    /// Routes every `Logger` of the process here.
    static func bootstrap(format: Format, environment: [String: String]) {
        // Values of variables named like credentials are masked even if they appear in an error.
        let secrets = environment.filter { kv in ["TOKEN", "SECRET", "PASSWORD", "KEY", "CREDENTIALS"].contains { kv.key.uppercased().hasSuffix($0) } }
        let masker = SecretMasker(secrets: Array(secrets.values))
        LoggingSystem.bootstrap { label in LogOutput(label: label, format: format, masker: masker) }
    }

    func log(event: LogEvent) {
        var fields = metadata
        if let extra = event.metadata { fields.merge(extra) { _, new in new } }
        let level = event.level
        let time = Date().formatted(.iso8601)
        let message = masker.mask("\(event.message)" + (event.error.map { ": \($0)" } ?? ""))
        let text: String
        switch format {
        case .text:
            let pairs = fields.sorted { $0.key < $1.key }.map { "\($0.key)=\(Self.quoted(masker.mask("\($0.value)")))" }
            text = ([time, level.rawValue] + pairs).joined(separator: " ") + ": " + message
        case .json:
            var object: [String: String] = ["time": time, "level": level.rawValue, "msg": message]
            for (k, v) in fields where object[k] == nil { object[k] = masker.mask("\(v)") }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            do { text = String(decoding: try encoder.encode(object), as: UTF8.self) } catch {
                text = "{\"level\":\"error\",\"msg\":\"a log line could not be encoded: \(error)\"}"
            }
        }
        Output.err(text)
    }

    static func quoted(_ value: String) -> String {
        value.contains(where: { $0 == " " || $0 == "\"" || $0 == "=" }) ? "\"" + value.replacing("\"", with: "\\\"") + "\"" : value
    }
}
extension LogOutput.Format: ExpressibleByArgument {}
