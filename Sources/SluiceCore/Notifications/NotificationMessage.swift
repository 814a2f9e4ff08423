import Crypto
import FoundationEssentials

/// One event rendered for one provider: the HTTP headers and the JSON body it is posted with.
/// Every provider gets the same words (the outcome first, then what explains it, then a link),
/// within that provider's documented limits.
public struct NotificationMessage: Sendable {
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    /// - Parameters:
    ///   - baseURL: the web UI's address (links are made absolute with it).
    ///   - delivery: this delivery's id (`X-Sluice-Delivery`), stable across retries.
    ///   - secret: the webhook provider's HMAC key.
    public static func render(_ event: NotificationEvent, for kind: NotificationSettings.ProviderKind, structured: Bool = false,
                              baseURL: String, delivery: String, secret: String?) -> NotificationMessage {
        let text = NotificationText(event, baseURL: baseURL)
        switch kind {
        case .slack: return json(SlackFormat.payload(text))
        case .msteams: return json(TeamsFormat.payload(text))
        case .googlechat: return json(GoogleChatFormat.payload(text, cardID: "sluice-" + event.id))
        case .webhook:
            var message = json(text.eventObject)
            message.headers += [("X-Sluice-Event", event.kind.rawValue), ("X-Sluice-Delivery", delivery)]
            if let secret {
                let mac = HMAC<SHA256>.authenticationCode(for: message.body, using: SymmetricKey(data: Array(secret.utf8)))
                message.headers.append(("X-Sluice-Signature-256", "sha256=" + ContentHash.hex(Array(mac))))
            }
            return message
        case .cloudevents:
            return CloudEventsFormat.message(text, structured: structured)
        }
    }

    static func json(_ value: JSON) -> NotificationMessage {
        NotificationMessage(headers: [("Content-Type", "application/json")], body: value.encoded())
    }
}

/// The words of an event, shared by every format.
struct NotificationText {
    var event: NotificationEvent
    var link: String
    var linkTitle: String

    init(_ event: NotificationEvent, baseURL: String) {
        self.event = event
        link = baseURL + event.link
        linkTitle = event.link.hasPrefix("/runs/") ? "Open run \(event.run.map(String.init) ?? "")"
            : event.link.hasPrefix("/models/") ? "Open \(event.model ?? "the model")" : "Open \(event.repository)"
    }

    /// Label and value pairs: repository, model, version, environment, run, commit, severity.
    var facts: [(String, String)] {
        [("Repository", event.repository), ("Model", event.model), ("Version", event.version), ("Environment", event.environment),
         ("Run", event.run.map(String.init)), ("Commit", event.commit.map { CommitID($0).short }), ("Severity", event.severity.rawValue)]
            .compactMap { label, value in value.map { (label, $0) } }
    }

    /// Plain text: the title, the details, the link (the fallback every chat shows in notifications).
    var plain: String {
        ([event.title] + event.details + [link]).joined(separator: "\n")
    }

    var time: String { Date(timeIntervalSince1970: event.time).formatted(.iso8601) }

    /// The event as the webhook and CloudEvents bodies carry it.
    var eventObject: JSON {
        var o: [String: JSON] = ["id": .string(event.id), "type": .string(event.kind.rawValue), "time": .string(time),
                                 "severity": .string(event.severity.rawValue), "repository": .string(event.repository),
                                 "repositoryURL": .string(event.repositoryURL), "title": .string(event.title),
                                 "details": .array(event.details.map(JSON.string)), "link": .string(link)]
        o["model"] = event.model.map(JSON.string)
        o["version"] = event.version.map(JSON.string)
        o["environment"] = event.environment.map(JSON.string)
        o["run"] = event.run.map { .int(Int($0)) }
        o["commit"] = event.commit.map(JSON.string)
        return .object(o)
    }
}

/// A JSON value, encoded with sorted keys and unescaped slashes (the same value always gives the
/// same bytes): notification bodies, signed statements and bundles.
enum JSON: Encodable {
    case string(String), int(Int), number(Double), bool(Bool), array([JSON]), object([String: JSON]), null

    func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .string(let v): try c.encode(v)
        case .int(let v): try c.encode(v)
        case .number(let v): if v.isFinite { try c.encode(v) } else { try c.encodeNil() }
        case .bool(let v): try c.encode(v)
        case .array(let v): try c.encode(v)
        case .object(let v): try c.encode(v)
        case .null: try c.encodeNil()
        }
    }

    func encoded() -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do { return Array(try encoder.encode(self)) } catch {
            // Strings, integers and containers of them always encode; kept total all the same.
            return Array("{\"error\":\"the message could not be encoded\"}".utf8)
        }
    }
}
