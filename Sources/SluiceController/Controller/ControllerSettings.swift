import FoundationEssentials
public import SluiceCore
import SluiceYAML

/// A controller configuration read and checked before anything starts: every located error of
/// the file, and every secret it names that the environment lacks, refuses it as a whole.
public struct ControllerSettings: Sendable {
    public let config: ControllerConfig
    /// Where the file was read from (the state folder is resolved against it).
    public let path: String
    /// Repository name -> webhook secret, from the variables the configuration names.
    public let webhookSecrets: [String: String]
    /// The bearer token actions need (`token-env`); nil: the server is read-only.
    public let actionToken: String?
    /// What is worth saying but does not stop the controller (a forge token that is not set, …).
    public let warnings: [Diagnostic]

    /// Reads `path`; throws `DiagnosticsError` with every error (the file's, then the missing
    /// secrets) at once, or `LoadError` when the file cannot be read.
    public static func load(path: String, environment: [String: String]) throws -> ControllerSettings {
        let bytes = try PolicyLoader.read(path)
        let node: Node?
        do throws(YAMLError) { node = try YAMLParser.parseDocument(bytes, file: path) } catch {
            throw DiagnosticsError([error.diagnostic])
        }
        let decoded = ControllerConfigDecoder.decode(node, file: path)
        guard let config = decoded.config else { throw DiagnosticsError(decoded.diagnostics) }
        var warnings = decoded.diagnostics.filter { $0.severity == .warning }
        var secrets: [String: String] = [:], missing: [Diagnostic] = []
        for repo in config.repositories {
            if repo.mergeRequests, let forge = repo.effectiveForge, (environment[forge.tokenEnv] ?? "").isEmpty {
                warnings.append(.warning(at: repo.location,
                    "repository '\(repo.name)': \(forge.tokenEnv) is not set, so merge requests on \(forge.kind) \(forge.project) get no gate report",
                    hint: "export \(forge.tokenEnv) with a token that may comment and set commit statuses"))
            }
            guard let name = repo.webhookSecretEnv else { continue }
            if let value = environment[name], !value.isEmpty { secrets[repo.name] = value } else {
                missing.append(.error(at: repo.location, "repository '\(repo.name)': webhook-secret-env \(name) is not set in the environment",
                                      hint: "export \(name), or remove webhook-secret-env to rely on polling"))
            }
        }
        var token: String?
        if let name = config.tokenEnv {
            if let value = environment[name], !value.isEmpty { token = value } else {
                missing.append(.error(at: config.tokenLocation ?? SourceLocation(file: path, line: 1, column: 1),
                                      "token-env \(name) is not set in the environment",
                                      hint: "export \(name) with the bearer token for actions, or remove token-env to stay read-only"))
            }
        }
        if !missing.isEmpty { throw DiagnosticsError(warnings + missing) }
        return ControllerSettings(config: config, path: path, webhookSecrets: secrets, actionToken: token, warnings: warnings)
    }
}
