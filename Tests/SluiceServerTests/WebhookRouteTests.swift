import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Prometheus
import Testing
import SluiceController
import SluiceCore
import SluiceServer
import SluiceTestSupport
import SluiceYAML

/// The controller's routes in process (HummingbirdTesting's router client): no `sluice watch`
/// process, no socket, a controller built from a configuration with a temporary state folder.
@Suite struct WebhookRouteTests {
    static let secret = "s3cret"

    /// A server with one repository, `iris`, whose webhooks are signed with `secret`.
    struct Fixture {
        let state = TemporaryDirectory(prefix: "sluice-server")
        let repo: TestRepository
        let server: ControllerServer

        /// - Parameter clock: the flood guard's clock (default: one fixed second, so a test's deliveries all fall in it).
        init(queueLimit: Int = 100, clock: @escaping @Sendable () -> Double = { 1_800_000_000 }) throws {
            repo = try TestRepository()
            _ = try repo.commit("first", files: ["README": "x\n"])
            let yaml = "repositories:\n  - { name: iris, url: \(repo.path), webhook-secret-env: HOOK_SECRET }\n"
            let decoded = ControllerConfigDecoder.decode(try YAMLParser.parseDocument(Array(yaml.utf8), file: "controller.yaml"), file: "controller.yaml")
            let config = try #require(decoded.config, "\(decoded.diagnostics)")
            let service = try RunService(stateDirectory: state.path, options: PipelineRunner.Options(environment: [:]))
            let slots = ControllerSlots(fetches: 1, runs: 1)
            let watchers = Dictionary(uniqueKeysWithValues: config.repositories.map {
                ($0.name, RepositoryWatcher(repository: $0, service: service, environment: [:], mergeRequestParallelism: 1, slots: slots))
            })
            server = ControllerServer(watchers: watchers, secrets: ["iris": WebhookRouteTests.secret], store: service.store, queueLimit: queueLimit,
                                      metrics: PrometheusCollectorRegistry(), clock: clock)
        }

        /// Runs `body` against the server's router.
        func test(_ body: @escaping @Sendable (any TestClientProtocol) async throws -> Void) async throws {
            try await Application(router: server.router()).test(.router, body)
        }
    }

    static func github(_ body: String, secret: String = secret, delivery: String = UUID().uuidString) -> HTTPFields {
        var fields = HTTPFields()
        fields[HTTPField.Name("X-GitHub-Event")!] = "push"
        fields[HTTPField.Name("X-GitHub-Delivery")!] = delivery
        fields[HTTPField.Name("X-Hub-Signature-256")!] = "sha256=" + WebhookVerifier.hmac(Array(body.utf8), secret)
        fields[.contentType] = "application/json"
        return fields
    }

    @Test func aSignedPushIsAcceptedOnceAndItsReplayIgnored() async throws {
        let fixture = try Fixture()
        let body = "{\"ref\": \"refs/heads/main\"}"
        let headers = Self.github(body, delivery: "d-1")
        try await fixture.test { client in
            try await client.execute(uri: "/webhooks/iris", method: .post, headers: headers, body: ByteBuffer(string: body)) { response in
                #expect(response.status == .accepted)
                #expect(String(buffer: response.body) == "reconciling iris\n")
            }
            try await client.execute(uri: "/webhooks/iris", method: .post, headers: headers, body: ByteBuffer(string: body)) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body).contains("delivery d-1 was already received"))
            }
        }
    }

    @Test func unsignedWronglySignedUnknownAndMalformedDeliveriesAreRefused() async throws {
        let fixture = try Fixture()
        let body = "{\"ref\": \"refs/heads/main\"}"
        try await fixture.test { client in
            try await client.execute(uri: "/webhooks/nope", method: .post, headers: Self.github(body), body: ByteBuffer(string: body)) { response in
                #expect(response.status == .notFound)
                #expect(String(buffer: response.body).contains("no repository named 'nope'"))
            }
            try await client.execute(uri: "/webhooks/iris", method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(string: body)) { response in
                #expect(response.status == .unauthorized)
                #expect(String(buffer: response.body) == "not a GitHub, GitLab or Gitea webhook\n")
            }
            try await client.execute(uri: "/webhooks/iris", method: .post, headers: Self.github(body, secret: "guess"), body: ByteBuffer(string: body)) { response in
                #expect(response.status == .unauthorized)
                #expect(String(buffer: response.body) == "signature missing or wrong\n")
            }
            let notJSON = "ref=main"
            try await client.execute(uri: "/webhooks/iris", method: .post, headers: Self.github(notJSON), body: ByteBuffer(string: notJSON)) { response in
                #expect(response.status == .badRequest)
            }
        }
    }

    @Test func aFloodIsThrottledWithoutLosingWork() async throws {
        let fixture = try Fixture(queueLimit: 2)
        let body = "{}"
        try await fixture.test { client in
            var statuses: [HTTPResponse.Status] = []
            for _ in 0..<10 {
                statuses.append(try await client.execute(uri: "/webhooks/iris", method: .post, headers: Self.github(body), body: ByteBuffer(string: body)).status)
            }
            // Two a second are admitted, the rest told to back off (the next poll catches up).
            #expect(statuses == [.accepted, .accepted] + Array(repeating: .tooManyRequests, count: 8), "\(statuses)")
        }
    }

    @Test func healthAndReadinessAnswerWithoutAReconcile() async throws {
        let fixture = try Fixture()
        try await fixture.test { client in
            try await client.execute(uri: "/healthz", method: .get) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body) == "ok\n")
            }
            try await client.execute(uri: "/readyz", method: .get) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body).hasPrefix("ready: single replica\n"))
            }
        }
    }
}
