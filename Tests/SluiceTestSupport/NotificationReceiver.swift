import Foundation

/// `notify_receiver.py` on 127.0.0.1: one receiver per format under its own path (`/slack`,
/// `/msteams`, `/googlechat`, `/webhook`, `/cloudevents`), each checking the payload against
/// the format's documented structure and limits, every request recorded.
public final class NotificationReceiver: @unchecked Sendable {
    // @unchecked: immutable after init.
    public let server: PythonScriptServer
    public let directory = TemporaryDirectory(prefix: "sluice-receiver")
    public let log: String

    public struct Delivery: Sendable {
        public var path: String
        public var headers: [String: String]
        public var answered: Int
        public var valid: Bool?
        public var problem: String?
        /// The JSON body (or, for CloudEvents, the event's data), re-encoded.
        public var json: [String: any Sendable]
    }

    public init(failFirst: Int = 0, sleep: Double = 0, secret: String = "") throws {
        log = directory.path + "/deliveries.jsonl"
        FileManager.default.createFile(atPath: log, contents: nil)
        server = try PythonScriptServer(path: RepositoryLayout.root() + "/Tests/SluiceTestSupport/notify_receiver.py",
                                        arguments: [log, "--fail-first", String(failFirst), "--sleep", String(sleep), "--secret", secret])
    }

    public func url(_ path: String) -> String { "http://127.0.0.1:\(server.port)/\(path)" }

    /// Every request so far, in arrival order.
    public func deliveries() throws -> [Delivery] {
        let text = try String(contentsOfFile: log, encoding: .utf8)
        return try text.split(separator: "\n").map { line in
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] ?? [:]
            let body = (object["body"] ?? object["data"]) as? [String: Any] ?? [:]
            return Delivery(path: object["path"] as? String ?? "", headers: object["headers"] as? [String: String] ?? [:],
                            answered: object["answered"] as? Int ?? 0, valid: object["valid"] as? Bool, problem: object["problem"] as? String,
                            json: body.mapValues { Self.sendable($0) })
        }
    }

    static func sendable(_ value: Any) -> any Sendable {
        switch value {
        case let s as String: s
        case let n as NSNumber: n.doubleValue
        case let a as [Any]: a.map(sendable)
        case let d as [String: Any]: d.mapValues(sendable)
        default: "\(value)"
        }
    }
}
