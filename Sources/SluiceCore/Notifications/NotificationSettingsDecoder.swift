/// Reads `notifications:` of the controller configuration, with file:line:col for each error.
public enum NotificationSettingsDecoder {
    public static let keys = ["url", "retry-for", "rate-limit", "providers", "routes"]
    public static let providerKeys = ["name", "type", "url-env", "url-file", "secret-env", "secret-file", "mode"]
    public static let routeKeys = ["providers", "events", "severity", "repositories", "models", "environments"]

    public static func decode(_ node: Node, _ reader: inout NodeReader) -> NotificationSettings? {
        guard let fields = reader.mapping(node, what: "'notifications'", allowed: keys) else { return nil }
        var settings = NotificationSettings()
        var routeNodes: [Node] = []
        var named: [String] = []
        for (key, _, value) in fields {
            switch key {
            case "url":
                guard let url = reader.nonEmptyString(value, what: "'notifications.url'") else { continue }
                if url.hasPrefix("http://") || url.hasPrefix("https://") {
                    settings.url = url.hasSuffix("/") ? String(url.dropLast()) : url
                } else {
                    reader.error(value, "'notifications.url' must be an http(s) URL, found '\(url)'", hint: "the address people open the web UI at, e.g. https://sluice.example.com")
                }
            case "retry-for", "rate-limit":
                guard let text = reader.string(value, what: "'notifications.\(key)'") else { continue }
                guard let seconds = DurationText.seconds(text), seconds >= 0 else {
                    reader.error(value, "'notifications.\(key)': '\(text)' is not a duration", hint: "e.g. 6h, 5m, 0s")
                    continue
                }
                if key == "retry-for" { settings.retrySeconds = seconds } else { settings.rateLimitSeconds = seconds }
            case "providers":
                guard let items = value.sequence else {
                    reader.error(value, "'notifications.providers' must be a list, found \(value.kindName)", hint: "e.g. - { name: team-slack, type: slack, url-env: SLACK_WEBHOOK_URL }")
                    continue
                }
                for item in items {
                    // A provider with an error is still a name routes may use (one error, not two).
                    if let name = item.mapping?.first(where: { $0.key.string == "name" })?.value.string { named.append(name) }
                    guard let provider = decodeProvider(item, &reader) else { continue }
                    if let first = settings.providers.first(where: { $0.name == provider.name }) {
                        reader.error(item, "notification provider '\(provider.name)' is defined twice", hint: "first at \(first.location.line):\(first.location.column)")
                    }
                    settings.providers.append(provider)
                }
            case "routes":
                guard let items = value.sequence else {
                    reader.error(value, "'notifications.routes' must be a list, found \(value.kindName)", hint: "e.g. - { providers: [team-slack], events: [gate.rejected] }")
                    continue
                }
                routeNodes = items
            default: break
            }
        }
        for item in routeNodes {
            if let route = decodeRoute(item, providers: named, &reader) { settings.routes.append(route) }
        }
        return settings
    }

    private static func decodeProvider(_ node: Node, _ reader: inout NodeReader) -> NotificationSettings.Provider? {
        guard let fields = reader.mapping(node, what: "a notification provider", allowed: providerKeys) else { return nil }
        let f = Fields(fields)
        guard let nameNode = f["name"], let name = reader.nonEmptyString(nameNode, what: "'name' of a notification provider") else {
            if f["name"] == nil { reader.error(node, "a notification provider needs a 'name'") }
            return nil
        }
        guard let typeNode = f["type"], let type = reader.nonEmptyString(typeNode, what: "'type' of provider '\(name)'") else {
            if f["type"] == nil {
                reader.error(node, "provider '\(name)' needs a 'type'", hint: "one of " + NotificationSettings.ProviderKind.allCases.map(\.rawValue).joined(separator: ", "))
            }
            return nil
        }
        guard let kind = NotificationSettings.ProviderKind(rawValue: type) else {
            let kinds = NotificationSettings.ProviderKind.allCases.map(\.rawValue)
            reader.error(typeNode, "unknown provider type '\(type)' for '\(name)'",
                         hint: Suggestion.hint(for: type, in: kinds) ?? "one of " + kinds.joined(separator: ", "))
            return nil
        }
        guard let url = source(f, env: "url-env", file: "url-file", of: name, in: node, &reader) else {
            if f["url-env"] == nil, f["url-file"] == nil {
                reader.error(node, "provider '\(name)' needs 'url-env' (an environment variable) or 'url-file' (a mounted Secret's file) holding its URL",
                             hint: "the URL is a credential: it is never written in the configuration")
            }
            return nil
        }
        var provider = NotificationSettings.Provider(name: name, kind: kind, url: url, location: nameNode.location)
        provider.secret = source(f, env: "secret-env", file: "secret-file", of: name, in: node, &reader)
        if kind == .webhook, provider.secret == nil, f["secret-env"] == nil, f["secret-file"] == nil {
            reader.error(node, "webhook provider '\(name)' needs 'secret-env' or 'secret-file': its deliveries are signed (X-Sluice-Signature-256)")
        }
        if let mode = f["mode"], let text = reader.string(mode, what: "'mode' of provider '\(name)'") {
            switch (kind, text) {
            case (.cloudevents, "binary"): provider.structured = false
            case (.cloudevents, "structured"): provider.structured = true
            case (.cloudevents, _): reader.error(mode, "'mode' of provider '\(name)' must be binary or structured, found '\(text)'")
            default: reader.error(mode, "'mode' applies to cloudevents providers only ('\(name)' is \(kind.rawValue))")
            }
        }
        return provider
    }

    private static func source(_ f: Fields, env: String, file: String, of name: String, in node: Node,
                               _ reader: inout NodeReader) -> NotificationSettings.SecretSource? {
        switch (f[env], f[file]) {
        case (let e?, nil): return reader.nonEmptyString(e, what: "'\(env)' of provider '\(name)'").map { .environment($0) }
        case (nil, let p?): return reader.nonEmptyString(p, what: "'\(file)' of provider '\(name)'").map { .file($0) }
        case (_?, _?):
            reader.error(node, "provider '\(name)' has both '\(env)' and '\(file)'", hint: "keep one")
            return nil
        case (nil, nil): return nil
        }
    }

    /// One route. `known`: the provider names it may use (nil: not checked here, as in a
    /// repository's `notify:`, whose providers the controller defines).
    static func decodeRoute(_ node: Node, providers known: [String]?, allowed: [String] = routeKeys,
                            _ reader: inout NodeReader) -> NotificationSettings.Route? {
        guard let fields = reader.mapping(node, what: "a notification route", allowed: allowed) else { return nil }
        let f = Fields(fields)
        guard let providersNode = f["providers"], let names = reader.stringList(providersNode, what: "'providers' of a route"), !names.isEmpty else {
            if f["providers"] == nil { reader.error(node, "a notification route needs 'providers'", hint: "the names of providers under notifications.providers") }
            return nil
        }
        var route = NotificationSettings.Route(providers: [])
        for (name, at) in names {
            guard let known else { route.providers.append(name); continue }
            if known.contains(name) { route.providers.append(name); continue }
            reader.error(at, "route names provider '\(name)', which notifications.providers does not define",
                         hint: Suggestion.hint(for: name, in: known) ?? (known.isEmpty ? "define it under notifications.providers" : "defined: " + known.joined(separator: ", ")))
        }
        if let eventsNode = f["events"], let kinds = reader.stringList(eventsNode, what: "'events' of a route") {
            if !kinds.contains(where: { $0.0 == "*" }) {
                var chosen: Set<NotificationEvent.Kind> = []
                let all = NotificationEvent.Kind.allCases.map(\.rawValue)
                for (text, at) in kinds {
                    if let kind = NotificationEvent.Kind(rawValue: text) { chosen.insert(kind); continue }
                    reader.error(at, "unknown event '\(text)'", hint: Suggestion.hint(for: text, in: all) ?? "events: " + all.joined(separator: ", ") + ", or \"*\"")
                }
                route.events = chosen
            }
        }
        if let s = f["severity"], let text = reader.string(s, what: "'severity' of a route") {
            if let severity = NotificationEvent.Severity(rawValue: text) { route.severity = severity } else {
                reader.error(s, "'severity' must be info, warning or error, found '\(text)'", hint: "the lowest severity the route sends")
            }
        }
        route.repositories = globs(f["repositories"], "repositories", &reader)
        route.models = globs(f["models"], "models", &reader)
        route.environments = globs(f["environments"], "environments", &reader)
        return route
    }

    /// A repository's `notify:`: routes of its own events to providers the controller defines.
    public static func decodeRepositoryRoutes(_ node: Node, _ reader: inout NodeReader) -> [NotificationSettings.Route] {
        guard let items = node.sequence else {
            reader.error(node, "'notify' must be a list of routes, found \(node.kindName)", hint: "e.g. - { providers: [team-slack], events: [gate.rejected] }")
            return []
        }
        return items.compactMap { decodeRoute($0, providers: nil, allowed: repositoryRouteKeys, &reader) }
    }

    public static let repositoryRouteKeys = ["providers", "events", "severity", "models", "environments"]

    private static func globs(_ node: Node?, _ what: String, _ reader: inout NodeReader) -> [Glob] {
        guard let node, let items = reader.stringList(node, what: "'\(what)' of a route") else { return [] }
        return items.compactMap { text, at in
            do { return try Glob(text) } catch {
                reader.error(at, "'\(text)' in '\(what)' is not a valid pattern: \(error)", hint: "e.g. iris*")
                return nil
            }
        }
    }
}
