/// `notifications:` in the controller configuration: where events go (providers) and which
/// go where (routes). Provider URLs and secrets are named by environment variable or file,
/// never written in the configuration, the state folder or a log.
public struct NotificationSettings: Hashable, Sendable {
    public enum ProviderKind: String, CaseIterable, Hashable, Sendable {
        case slack, msteams, googlechat, webhook, cloudevents
    }

    /// Where a value comes from: an environment variable or a (Secret-mounted) file.
    public enum SecretSource: Hashable, Sendable {
        case environment(String)
        case file(String)
    }

    public struct Provider: Hashable, Sendable {
        public var name: String
        public var kind: ProviderKind
        public var url: SecretSource
        /// The webhook provider's HMAC key (required for `webhook`).
        public var secret: SecretSource?
        /// CloudEvents content mode: binary (default) or structured.
        public var structured = false
        public var location: SourceLocation

        public init(name: String, kind: ProviderKind, url: SecretSource, location: SourceLocation) {
            self.name = name
            self.kind = kind
            self.url = url
            self.location = location
        }
    }

    public struct Route: Hashable, Sendable {
        public var providers: [String]
        /// Event kinds; nil: every kind (`"*"`).
        public var events: Set<NotificationEvent.Kind>?
        /// The lowest severity sent (default: info, everything).
        public var severity: NotificationEvent.Severity = .info
        public var repositories: [Glob] = []
        public var models: [Glob] = []
        public var environments: [Glob] = []

        public init(providers: [String]) { self.providers = providers }

        public func matches(_ event: NotificationEvent) -> Bool {
            func any(_ globs: [Glob], _ value: String?) -> Bool {
                globs.isEmpty || value.map { v in globs.contains { $0.matches(v) } } ?? false
            }
            return (events?.contains(event.kind) ?? true) && event.severity >= severity && any(repositories, event.repository)
                && any(models, event.model) && any(environments, event.environment)
        }
    }

    public var providers: [Provider] = []
    public var routes: [Route] = []
    /// The web UI's address as people open it (links in messages); nil: `http://<listen>`.
    public var url: String?
    /// How long a delivery is retried before it is recorded as failed.
    public var retrySeconds = 6 * 3600
    /// Identical events to one provider within this window are collapsed into the first.
    public var rateLimitSeconds = 300

    public init() {}

    /// The providers `event` goes to: every provider of every route that matches it, once each.
    public func providers(for event: NotificationEvent) -> [String] {
        var names: [String] = []
        for route in routes where route.matches(event) {
            for name in route.providers where !names.contains(name) { names.append(name) }
        }
        return names
    }

    /// What makes two events "identical" for rate limiting: the same kind, place and words.
    public static func fingerprint(_ event: NotificationEvent) -> String {
        [event.kind.rawValue, event.repository, event.model ?? "", event.version ?? "", event.environment ?? "", event.title]
            .joined(separator: "\u{1F}")
    }
}
