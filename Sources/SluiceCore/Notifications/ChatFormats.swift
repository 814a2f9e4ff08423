/// Slack incoming webhooks: Block Kit blocks plus a `text` fallback (shown in notifications
/// and where blocks are not). Limits (Slack's Block Kit reference): a header's text ≤ 150
/// characters, a section's text ≤ 3,000, a context element ≤ 3,000 (≤ 10 elements), a button's
/// text ≤ 75 and URL ≤ 3,000, ≤ 50 blocks.
enum SlackFormat {
    static func payload(_ text: NotificationText) -> JSON {
        let event = text.event
        var blocks: [JSON] = [
            .object(["type": .string("header"), "text": plain(bounded(event.title, 150))]),
        ]
        if !event.details.isEmpty {
            blocks.append(section(event.details.map { "• " + escape($0) }.joined(separator: "\n")))
        }
        let facts = text.facts.map { "*\($0.0)*: \(escape($0.1))" }.joined(separator: "  ·  ")
        blocks.append(.object(["type": .string("context"), "elements": .array([.object(["type": .string("mrkdwn"), "text": .string(bounded(facts, 3000))])])]))
        blocks.append(.object(["type": .string("actions"), "elements": .array([
            .object(["type": .string("button"), "text": plain(bounded(text.linkTitle, 75)), "url": .string(String(text.link.prefix(3000)))]),
        ])]))
        return .object(["text": .string(bounded(text.plain, 3000)), "blocks": .array(Array(blocks.prefix(50)))])
    }

    static func plain(_ s: String) -> JSON { .object(["type": .string("plain_text"), "text": .string(s), "emoji": .bool(false)]) }

    static func section(_ s: String) -> JSON {
        .object(["type": .string("section"), "text": .object(["type": .string("mrkdwn"), "text": .string(bounded(s, 3000))])])
    }

    /// Slack's three control characters in message text.
    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }
}

/// Microsoft Teams through a Workflows webhook ("Post to a channel when a webhook request is
/// received"): a message with one Adaptive Card attachment (schema 1.4). The retired Office 365
/// connector "MessageCard" format is not used.
enum TeamsFormat {
    static func payload(_ text: NotificationText) -> JSON {
        let event = text.event
        var body: [JSON] = [
            .object(["type": .string("TextBlock"), "text": .string(event.title), "weight": .string("Bolder"), "size": .string("Medium"),
                     "wrap": .bool(true), "color": .string(event.severity == .error ? "Attention" : event.severity == .warning ? "Warning" : "Good")]),
        ]
        if !event.details.isEmpty {
            body.append(.object(["type": .string("TextBlock"), "text": .string(event.details.map { "- " + $0 }.joined(separator: "\n")), "wrap": .bool(true)]))
        }
        body.append(.object(["type": .string("FactSet"), "facts": .array(text.facts.map { .object(["title": .string($0.0), "value": .string($0.1)]) })]))
        let card: JSON = .object([
            "$schema": .string("http://adaptivecards.io/schemas/adaptive-card.json"), "type": .string("AdaptiveCard"), "version": .string("1.4"),
            "body": .array(body),
            "actions": .array([.object(["type": .string("Action.OpenUrl"), "title": .string(text.linkTitle), "url": .string(text.link)])]),
        ])
        return .object(["type": .string("message"), "attachments": .array([
            .object(["contentType": .string("application/vnd.microsoft.card.adaptive"), "contentUrl": .null, "content": card]),
        ])])
    }
}

/// Google Chat incoming webhooks: a `cardsV2` card (header, the details, the facts, a button)
/// with a `text` fallback.
enum GoogleChatFormat {
    static func payload(_ text: NotificationText, cardID: String) -> JSON {
        let event = text.event
        var widgets: [JSON] = []
        if !event.details.isEmpty { widgets.append(.object(["textParagraph": .object(["text": .string(event.details.joined(separator: "\n"))])])) }
        widgets += text.facts.map { .object(["decoratedText": .object(["topLabel": .string($0.0), "text": .string($0.1)])]) }
        widgets.append(.object(["buttonList": .object(["buttons": .array([
            .object(["text": .string(text.linkTitle), "onClick": .object(["openLink": .object(["url": .string(text.link)])])]),
        ])])]))
        let card: JSON = .object([
            "header": .object(["title": .string(bounded(event.title, 200)), "subtitle": .string("\(event.kind.rawValue) · \(event.repository)")]),
            "sections": .array([.object(["widgets": .array(widgets)])]),
        ])
        return .object(["text": .string(text.plain), "cardsV2": .array([.object(["cardId": .string(cardID), "card": card])])])
    }
}

/// CloudEvents 1.0 over HTTP. Binary mode (default): the attributes are `ce-` headers and the
/// body is the event's data; structured mode: one `application/cloudevents+json` document.
enum CloudEventsFormat {
    static func message(_ text: NotificationText, structured: Bool) -> NotificationMessage {
        let event = text.event
        let type = "dev.sluice." + event.kind.rawValue
        let source = sourceURI(event.repositoryURL)
        let subject = [event.model, event.version, event.environment].compactMap { $0 }.joined(separator: "/")
        if structured {
            var o: [String: JSON] = ["specversion": .string("1.0"), "id": .string(event.id), "source": .string(source), "type": .string(type),
                                     "time": .string(text.time), "datacontenttype": .string("application/json"), "data": text.eventObject]
            if !subject.isEmpty { o["subject"] = .string(subject) }
            return NotificationMessage(headers: [("Content-Type", "application/cloudevents+json")], body: JSON.object(o).encoded())
        }
        var headers: [(name: String, value: String)] = [("Content-Type", "application/json"), ("ce-specversion", "1.0"), ("ce-id", event.id),
                                                        ("ce-source", source), ("ce-type", type), ("ce-time", text.time)]
        if !subject.isEmpty { headers.append(("ce-subject", subject)) }
        return NotificationMessage(headers: headers, body: text.eventObject.encoded())
    }

    /// The repository as a URI: a URL as it is, `git@host:path` as `ssh://git@host/path`, a path as `file://`.
    static func sourceURI(_ url: String) -> String {
        if url.contains("://") { return url }
        if url.hasPrefix("/") { return "file://" + url }
        if let colon = url.firstIndex(of: ":"), !url[..<colon].contains("/") {
            return "ssh://" + url[..<colon] + "/" + url[url.index(after: colon)...]
        }
        return url
    }
}

/// At most `limit` characters, an ellipsis marking a cut.
func bounded(_ text: String, _ limit: Int) -> String { NotificationEvent.bounded(text, to: limit) }
