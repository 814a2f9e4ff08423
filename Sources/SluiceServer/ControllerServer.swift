import CoreMetrics
import Foundation
public import Hummingbird
public import Prometheus
import HTTPTypes
import SluiceCore
public import SluiceStore
import Synchronization

/// The controller's HTTP side: webhooks (verified), `/metrics`, `/healthz`, `/readyz`, and a
/// small read-only web UI.
public struct ControllerServer: Sendable {
    public let watchers: [String: any WatchedRepository]
    public let secrets: [String: String]
    public let store: RunStore
    public let queueLimit: Int
    public let leadership: Leadership
    let webhookCounts: WebhookCounts

    /// Who leads (with a Lease), for /readyz and the UI. Followers serve read-only.
    public final class Leadership: Sendable {
        let state = Mutex<(ready: Bool, leading: Bool, text: String, leaderURL: String?)>((true, true, "single replica", nil))
        public init() {}
        /// - Parameters:
        ///   - leading: this replica acts (reconciles, takes actions); followers only serve.
        ///   - leaderURL: a follower's way to the leader's UI (from the Lease).
        public func set(ready: Bool, leading: Bool, _ text: String, leaderURL: String? = nil) {
            state.withLock { $0 = (ready, leading, text, leaderURL) }
        }
        public var current: (ready: Bool, leading: Bool, text: String, leaderURL: String?) { state.withLock { $0 } }
    }

    /// Delivery ids of verified webhooks already accepted (the newest 10,000): a replayed
    /// delivery (same id, a captured request sent again) is not acted on twice.
    final class Deliveries: Sendable {
        static let capacity = 10_000
        let seen = Mutex<(ids: Set<String>, order: [String])>(([], []))
        /// The headers GitHub, Gitea and GitLab put a delivery's unique id in.
        static let headers = ["X-GitHub-Delivery", "X-Gitea-Delivery", "X-Gitlab-Event-UUID"]

        /// Records `id`; false when it was seen before.
        func firstTime(_ id: String) -> Bool {
            seen.withLock { s in
                guard s.ids.insert(id).inserted else { return false }
                s.order.append(id)
                if s.order.count > Self.capacity { s.ids.remove(s.order.removeFirst()) }
                return true
            }
        }
    }
    let deliveries = Deliveries()

    final class WebhookCounts: Sendable {
        /// Deliveries accepted in the current second (the flood guard).
        let window = Mutex<(second: Int, count: Int)>((0, 0))
        let clock: @Sendable () -> Double
        init(clock: @escaping @Sendable () -> Double) { self.clock = clock }
        func add(_ result: String) { Counter(label: ControllerMetric.webhooks.rawValue, dimensions: ControllerMetric.webhooks.dimensions(result)).increment() }
        func admit(limit: Int) -> Bool {
            let second = Int(clock())
            return window.withLock { w in
                if w.second != second { w = (second, 0) }
                guard w.count < limit else { return false }
                w.count += 1
                return true
            }
        }
    }

    /// The bearer token actions need; nil: the server is read-only.
    public let actionToken: String?
    /// Where swift-metrics reports to (the Prometheus backend `/metrics` renders).
    public let metrics: PrometheusCollectorRegistry
    /// The per-repository series, which `/metrics` writes after the registry's.
    public let repositorySeries: RepositorySeries

    /// - Parameters:
    ///   - secrets: repository name -> webhook secret (from the configured environment variables).
    ///   - clock: seconds since 1970, for the webhook flood guard's one-second window.
    public init(watchers: [String: any WatchedRepository], secrets: [String: String], store: RunStore, queueLimit: Int,
                leadership: Leadership = Leadership(), actionToken: String? = nil, metrics: PrometheusCollectorRegistry,
                repositorySeries: RepositorySeries = RepositorySeries(),
                clock: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 }) {
        webhookCounts = WebhookCounts(clock: clock)
        self.actionToken = actionToken
        self.metrics = metrics
        self.repositorySeries = repositorySeries
        self.leadership = leadership
        self.watchers = watchers
        self.secrets = secrets
        self.store = store
        self.queueLimit = queueLimit
    }

    public func router() -> Router<BasicRequestContext> {
        let router = Router()
        // HTTP request counts and durations (hb_requests, hb_request_duration), through swift-metrics.
        router.middlewares.add(MetricsMiddleware())
        router.middlewares.add(SecurityHeaders())
        router.get("healthz") { _, _ in "ok\n" }
        router.get("readyz") { _, _ -> Response in
            // Ready is the replica's: a repository that is not Ready is listed, but does not take
            // the controller out of service (it keeps serving the others).
            let l = self.leadership.current
            var text = (l.ready ? "ready: " : "not ready: ") + l.text + "\n"
            for (name, w) in self.watchers.sorted(by: { $0.key < $1.key }) {
                if let ready = await w.health.conditions[.ready] {
                    text += "\(name): Ready=\(ready.status.rawValue) (\(ready.reason))\(ready.isTrue ? "" : ": " + ready.message)\n"
                }
            }
            return Self.text(l.ready ? .ok : .serviceUnavailable, text)
        }
        router.get("metrics") { _, _ -> Response in
            var bytes: [UInt8] = []
            self.metrics.emit(into: &bytes)
            self.repositorySeries.emit(into: &bytes)
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"], body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
        }
        router.post("webhooks/:repository") { request, context -> Response in
            var request = request
            let name = context.parameters.get("repository") ?? ""
            guard let watcher = self.watchers[name] else {
                self.webhookCounts.add("unknown_repository")
                return Self.text(.notFound, "no repository named '\(name)' in the configuration\n")
            }
            let body: ByteBuffer
            do { body = try await request.collectBody(upTo: 1 << 20) } catch {
                self.webhookCounts.add("too_large")
                return Self.text(.contentTooLarge, "webhook payloads are limited to 1 MiB\n")
            }
            let bytes = Array(body.readableBytesView)
            let header: (String) -> String? = { n in HTTPField.Name(n).flatMap { request.headers[$0] } }
            guard let forge = WebhookVerifier.forge(headers: header) else {
                self.webhookCounts.add("unauthorized")
                return Self.text(.unauthorized, "not a GitHub, GitLab or Gitea webhook\n")
            }
            guard let secret = self.secrets[name], WebhookVerifier.verify(forge, body: bytes, secret: secret, headers: header) else {
                self.webhookCounts.add("unauthorized")
                return Self.text(.unauthorized, "signature missing or wrong\n")
            }
            guard (try? JSONSerialization.jsonObject(with: Data(bytes))) is [String: Any] else {
                self.webhookCounts.add("malformed")
                return Self.text(.badRequest, "the payload is not a JSON object\n")
            }
            if let id = Deliveries.headers.lazy.compactMap({ header($0) }).first(where: { !$0.isEmpty }), !self.deliveries.firstTime(name + "/" + id) {
                self.webhookCounts.add("replayed")
                return Self.text(.ok, "delivery \(id) was already received; ignored\n")
            }
            guard self.webhookCounts.admit(limit: self.queueLimit) else {
                self.webhookCounts.add("throttled")
                return Self.text(.tooManyRequests, "too many webhook deliveries; the next poll will catch up\n")
            }
            self.webhookCounts.add("accepted")
            await watcher.wake()
            return Self.text(.accepted, "reconciling \(name)\n")
        }
        addPages(to: router)
        addActions(to: router)
        return router
    }

    static func text(_ status: HTTPResponse.Status, _ text: String) -> Response {
        Response(status: status, headers: [.contentType: "text/plain; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }


}
