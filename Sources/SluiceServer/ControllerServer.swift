import Foundation
public import Hummingbird
public import Prometheus
import HTTPTypes
import SluiceCore
public import SluiceController
public import SluiceStore
import Synchronization

/// The controller's HTTP side: webhooks (verified), `/metrics`, `/healthz`, `/readyz`, and a
/// small read-only web UI.
public struct ControllerServer: Sendable {
    public let watchers: [String: RepositoryWatcher]
    public let secrets: [String: String]
    public let store: RunStore
    public let queueLimit: Int
    public let leadership: Leadership
    let webhookCounts = WebhookCounts()

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
        func add(_ result: String) { ControllerMetrics.webhook(result: result) }
        func admit(limit: Int) -> Bool {
            let second = Int(Date().timeIntervalSince1970)
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

    /// - Parameter secrets: repository name -> webhook secret (from the configured environment variables).
    public init(watchers: [String: RepositoryWatcher], secrets: [String: String], store: RunStore, queueLimit: Int,
                leadership: Leadership = Leadership(), actionToken: String? = nil, metrics: PrometheusCollectorRegistry) {
        self.actionToken = actionToken
        self.metrics = metrics
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
        router.get("/") { request, _ -> Response in
            if let relayed = await self.fromLeader(request) { return relayed }
            var rows = ""
            for (name, w) in self.watchers.sorted(by: { $0.key < $1.key }) {
                let h = await w.health
                let conditions = ([h.conditions] + h.environments.sorted { $0.key < $1.key }.map(\.value)).flatMap(\.all).filter { $0.kind != .ready }
                    .map { "<span class=\"\($0.isTrue ? "healthy" : "unhealthy")\" title=\"\(Pages.escape($0.message))\">\($0.kind.rawValue)=\($0.status.rawValue)</span>"
                        + ($0.isTrue ? "" : " (\(Pages.escape($0.reason)): \(Pages.escape($0.message)))") }.joined(separator: "<br>")
                rows += "<tr><td>\(Pages.escape(name))</td><td class=\"\(h.healthy ? "healthy" : "unhealthy")\">\(h.healthy ? "healthy" : "unhealthy: " + Pages.escape(h.reason ?? ""))</td><td>\(conditions)</td><td>\(h.runsStarted)</td></tr>"
            }
            var held = ""
            for (name, w) in self.watchers.sorted(by: { $0.key < $1.key }) {
                for m in await w.health.held.values.sorted(by: { $0.ref < $1.ref }) {
                    let approve = m.awaitingApproval && self.actionToken != nil
                        ? "<form method=\"post\" action=\"/repositories/\(Pages.escape(name))/approve\"><input type=\"hidden\" name=\"ref\" value=\"\(Pages.escape(m.ref))\">"
                            + "<input type=\"hidden\" name=\"commit\" value=\"\(m.head)\"><input type=\"password\" name=\"token\" placeholder=\"API token\" required> "
                            + "<button>Approve \(m.head.prefix(12))</button></form>"
                        : ""
                    held += "<tr><td>\(Pages.escape(name))</td><td>\(Pages.escape(m.ref))</td><td>\(m.head.prefix(12))</td><td>\(Pages.escape(m.reason))</td>"
                        + "<td>\(Pages.timestamp(m.since))</td><td>\(approve)</td></tr>"
                }
            }
            let heldSection = held.isEmpty ? "" : "<h2>Merge requests not run</h2><table><tr><th>Repository</th><th>Ref</th><th>Head</th><th>Why</th><th>Since (UTC)</th><th></th></tr>\(held)</table>"
            var runs = ""
            for r in (try? self.store.runs(limit: 30)) ?? [] {
                runs += "<tr><td><a href=\"/runs/\(r.id!)\">\(r.id!)</a></td><td>\(Pages.escape(r.repository))</td><td>\(Pages.escape(r.ref ?? ""))</td><td>\(r.commit.prefix(12))</td>"
                    + "<td class=\"\(r.status.rawValue)\">\(r.status.rawValue)</td><td class=\"\(r.verdict.map(Pages.verdictClass) ?? "")\">\(Pages.escape(r.verdict ?? ""))</td><td>\(Pages.timestamp(r.startedAt ?? r.createdAt))</td>"
                    + "<td>\(Pages.seconds(r.startedAt, r.finishedAt))</td><td>\(Pages.escape(r.trigger))</td></tr>"
            }
            let models = ((try? self.store.modelNames()) ?? []).map { "<a href=\"/models/\(Pages.escape($0))\">\(Pages.escape($0))</a>" }.joined(separator: " · ")
            return Self.html("Sluice", "<h1>Sluice</h1><p>Models: \(models.isEmpty ? "none promoted yet" : models)</p><h2>Repositories</h2><table><tr><th>Repository</th><th>Health</th><th>Conditions</th><th>Runs started</th></tr>\(rows)</table>\(heldSection)"
                             + "<h2>Runs</h2><table><tr><th>Run</th><th>Repository</th><th>Ref</th><th>Commit</th><th>Status</th><th>Verdict</th><th>Started (UTC)</th><th>Took</th><th>Trigger</th></tr>\(runs)</table>")
        }
        router.get("runs/:id") { request, context -> Response in
            if let relayed = await self.fromLeader(request) { return relayed }
            guard let id = context.parameters.get("id").flatMap(Int64.init), let run = try? self.store.run(id) else {
                return Self.text(.notFound, "no such run\n")
            }
            do {
                let stages = try self.store.stages(of: id)
                // Where each cache hit came from (a run's scope: the production branch, a merge request).
                var origins: [Int64: String] = [:]
                for source in Set(stages.compactMap(\.cachedFrom)) { origins[source] = try self.store.run(source)?.cacheScope }
                return Self.page(Pages.run(run, stages: stages, reports: try self.store.reports(of: id), cacheOrigins: origins,
                                           actions: self.actionToken != nil))
            } catch {
                return Self.text(.internalServerError, "run \(id) could not be read from the run store: \(error)\n")
            }
        }
        router.get("models/:model") { request, context -> Response in
            if let relayed = await self.fromLeader(request) { return relayed }
            let model = context.parameters.get("model") ?? ""
            let log = (try? self.store.promotions(model: model)) ?? []
            let versions = (try? self.store.modelVersions(model: model)) ?? []
            let metric = request.uri.queryParameters.get("metric")
            return Self.page(Pages.promotions(model: model, log: log, versions: versions, metric: metric))
        }
        addActions(to: router)
        return router
    }

    static func text(_ status: HTTPResponse.Status, _ text: String) -> Response {
        Response(status: status, headers: [.contentType: "text/plain; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    static func html(_ title: String, _ body: String) -> Response { page(Pages.layout(title, body)) }

    static func page(_ html: String) -> Response {
        Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: html)))
    }

}
