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
    /// Each notification provider's URL and secret, read from the variables and files the
    /// configuration names (kept in memory only).
    public let notificationEndpoints: [String: NotificationEndpoint]
    /// The bucket behind the artifact store: the configuration's `artifacts:`, else
    /// `SLUICE_ARTIFACTS_URL`'s; nil: the state folder only.
    public let artifactStorage: ArtifactStorageSettings?
    /// The run store's PostgreSQL database: from the variable `store.url-env` names, else
    /// `SLUICE_DATABASE_URL`'s; nil: the state folder's SQLite file.
    public let database: DatabaseSettings?

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
        var endpoints: [String: NotificationEndpoint] = [:]
        for provider in config.notifications.providers {
            do throws(LoadError) {
                let url = try NotificationEndpoint.read(provider.url, what: "the URL of notification provider '\(provider.name)'", environment: environment)
                guard url.hasPrefix("https://") || url.hasPrefix("http://") else {
                    throw LoadError(message: "the URL of notification provider '\(provider.name)' is not an http(s) URL")
                }
                var secret: String?
                if let source = provider.secret {
                    secret = try NotificationEndpoint.read(source, what: "the secret of notification provider '\(provider.name)'", environment: environment)
                }
                endpoints[provider.name] = NotificationEndpoint(url: url, secret: secret)
            } catch {
                missing.append(.error(at: provider.location, error.message, hint: "export the variable, or mount the Secret's file, before starting"))
            }
        }
        var artifactStorage: ArtifactStorageSettings?
        do throws(LoadError) {
            if let bucket = config.artifacts {
                artifactStorage = try ArtifactStorageSettings.resolve(bucket, environment: environment)
            } else {
                artifactStorage = try ArtifactStorageSettings.from(environment: environment)
            }
        } catch {
            missing.append(.error(at: config.artifactsLocation ?? SourceLocation(file: path, line: 1, column: 1), error.message, hint: error.hint))
        }
        var database: DatabaseSettings?
        do throws(LoadError) {
            if let variable = config.storeURLEnv {
                guard let value = environment[variable], !value.isEmpty else {
                    throw LoadError(message: "store.url-env \(variable) is not set in the environment",
                                    hint: "export \(variable) with the run store's postgres:// URL, or remove 'store' to keep it in the state folder")
                }
                database = try DatabaseSettings.parse(value, what: variable)
            } else {
                database = try DatabaseSettings.from(environment: environment)
            }
        } catch {
            missing.append(.error(at: config.storeLocation ?? SourceLocation(file: path, line: 1, column: 1), error.message, hint: error.hint))
        }
        if !missing.isEmpty { throw DiagnosticsError(warnings + missing) }
        return ControllerSettings(config: config, path: path, webhookSecrets: secrets, actionToken: token, warnings: warnings,
                                  notificationEndpoints: endpoints, artifactStorage: artifactStorage, database: database)
    }
}

/// Where one notification provider is reached: its URL (a credential: Slack's and Teams'
/// webhook URLs carry their token) and, for `webhook`, the HMAC key.
public struct NotificationEndpoint: Sendable {
    public var url: String
    public var secret: String?

    public init(url: String, secret: String?) {
        self.url = url
        self.secret = secret
    }

    /// `text` (a receiver's answer, libcurl's error) without the URL or any part of it that
    /// may be its token: the path, and each path segment or query value of 8 characters or more.
    public func redact(_ text: String, as name: String) -> String {
        var parts = [url]
        if let scheme = url.range(of: "://"), let slash = url[scheme.upperBound...].firstIndex(of: "/") {
            let path = url[slash...]
            parts.append(String(path))
            parts += path.split(whereSeparator: { "/?&=#".contains($0) }).map(String.init).filter { $0.count >= 8 }
        }
        var out = text
        for part in parts.sorted(by: { $0.count > $1.count }) { out = out.replacingOccurrences(of: part, with: "<\(name)>") }
        return SecretMasker().mask(out)
    }

    /// The value of an environment variable or the content of a file, trimmed; never empty.
    static func read(_ source: NotificationSettings.SecretSource, what: String, environment: [String: String]) throws(LoadError) -> String {
        switch source {
        case .environment(let name):
            guard let value = environment[name]?.trimmingCharacters(in: .whitespacesAndNewlines), !value.isEmpty else {
                throw LoadError(message: "\(what): \(name) is not set in the environment")
            }
            return value
        case .file(let path):
            guard let data = FileManager.default.contents(atPath: path) else { throw LoadError(message: "\(what): \(path) cannot be read") }
            let value = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            guard !value.isEmpty else { throw LoadError(message: "\(what): \(path) is empty") }
            return value
        }
    }
}
