import FoundationEssentials
public import SluiceCore
import SluiceHTTP
import SluiceStore

/// What `sluice notifications` and `sluice notify test` do: list the outbox's deliveries, and
/// send one sample event to a provider to see what its receiver answers.
public enum NotificationOperations {
    /// The latest deliveries, newest first.
    public static func deliveries(stateDirectory: String, environment: [String: String], limit: Int) throws -> [NotificationDelivery] {
        try RunHistory(stateDirectory: stateDirectory, environment: environment).store.recentDeliveries(limit: limit)
    }

    /// A sample `gate.rejected` event, as a real one reads.
    public static func sampleEvent(now: Double) -> NotificationEvent {
        EventSource(repository: "example", repositoryURL: "https://git.example.com/acme/iris.git")
            .gate(run: 42, commit: "3f2a9c1e5b7d4a6c8e0f1a2b3c4d5e6f7a8b9c0d", model: "iris",
                  report: GateReport(model: "iris", repository: "https://git.example.com/acme/iris.git", ref: "refs/heads/main",
                                     commit: "3f2a9c1e5b7d4a6c8e0f1a2b3c4d5e6f7a8b9c0d", run: 42, policy: "policies/promotion.yaml",
                                     decision: .reject, passed: false, production: nil,
                                     metrics: [GateReport.MetricRow(metric: "accuracy", slice: nil, candidate: 0.81, production: 0.9, delta: -0.09,
                                                                    rule: ">= 0.85", passed: false, reason: "below the minimum 0.85")],
                                     dataChecks: [], stages: [], datasetVersions: [:], parameters: [:], artifacts: [],
                                     notes: ["a test message from sluice notify test"]),
                  version: nil, promoted: false, entered: nil, error: nil, time: now)[0]
    }

    public struct TestAnswer: Sendable {
        public var status: Int
        public var body: String
    }

    /// Posts the sample event to `provider` as the controller would; the receiver's answer.
    public static func sendTest(settings: ControllerSettings, provider name: String) throws -> TestAnswer {
        let providers = settings.config.notifications.providers
        guard let provider = providers.first(where: { $0.name == name }), let endpoint = settings.notificationEndpoints[name] else {
            throw LoadError(message: "\(settings.path) defines no notification provider '\(name)'",
                            hint: providers.isEmpty ? "add one under notifications.providers" : "defined: " + providers.map(\.name).joined(separator: ", "))
        }
        let event = sampleEvent(now: WallClock.now())
        let message = NotificationMessage.render(event, for: provider.kind, structured: provider.structured,
                                                 baseURL: settings.config.notifications.url ?? "http://\(settings.config.listen)",
                                                 delivery: "test-\(event.id)", secret: endpoint.secret)
        let request = HTTPRequest(method: "POST", url: endpoint.url, headers: message.headers, body: message.body, timeout: 10)
        do throws(HTTPError) {
            let response = try HTTPClient().send(request)
            return TestAnswer(status: response.status, body: endpoint.redact(String(response.text.prefix(2000)), as: name))
        } catch {
            throw LoadError(message: "provider '\(name)' did not answer (\(error.kind)): " + endpoint.redact(error.message, as: name))
        }
    }
}
