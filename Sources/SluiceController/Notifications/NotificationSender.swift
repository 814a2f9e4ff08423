import FoundationEssentials
public import Logging
import Synchronization
public import SluiceCore
import SluiceHTTP
import SluiceRunner
public import SluiceStore

/// Delivers the outbox: routes each recorded event to the providers its routes name, then
/// posts each delivery, one provider at a time each (a slow or dead receiver holds up only its
/// own deliveries, never a pipeline: pipelines only write the outbox). Every attempt is recorded
/// before the next; a restart carries on where the last process stopped. Runs on the replica
/// that leads. Receiver URLs stay in memory: logs and the store name the provider only.
/// Each pass is blocking work (SQLite, libcurl) and runs on its own thread (`Offload`), never on
/// the concurrency pool; the sender holds no mutable state but the links' base.
public final class NotificationSender: Sendable {
    let store: RunStore
    let settings: NotificationSettings
    let endpoints: [String: NotificationEndpoint]
    /// The web UI's address, for links (`notifications.url`, else where the server listens, once it does).
    private let links: Links
    let log: Logger
    /// How often the outbox is looked at for new or due deliveries.
    let pollSeconds: Double
    /// When deliveries are due and recorded (`WallClock`; tests step it instead of waiting).
    let clock: @Sendable () -> Double

    public init(store: RunStore, settings: NotificationSettings, endpoints: [String: NotificationEndpoint], baseURL: String,
                pollSeconds: Double = 1, clock: @escaping @Sendable () -> Double = { WallClock.now() },
                logger: Logger = Logger(label: "sluice.notifications")) {
        self.store = store
        self.clock = clock
        self.settings = settings
        self.endpoints = endpoints
        self.links = Links(baseURL)
        self.pollSeconds = pollSeconds
        self.log = logger
    }

    /// Set when `run` is cancelled (shutdown, lost leadership).
    private let stopping = Mutex(false)

    final class Links: Sendable {
        let base: Mutex<String>
        init(_ base: String) { self.base = Mutex(base) }
    }

    /// Where links point when the configuration names no `notifications.url`: the address the
    /// server bound (known once it listens).
    public func listening(at url: String) {
        guard settings.url == nil else { return }
        links.base.withLock { $0 = url }
    }

    /// How long finished deliveries (and their events) are kept for `sluice notifications` and the UI.
    public static let keepSeconds = 30.0 * 24 * 3600

    /// Routes and delivers until the task is cancelled.
    public func run() async {
        stopping.withLock { $0 = false }  // leading again after losing the lease
        await Offload.run { self.tidy() }
        await withTaskCancellationHandler {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await self.loop { await Offload.run { self.routeNew() } } }
                for provider in settings.providers {
                    group.addTask { await self.loop { await Offload.run { self.deliverDue(provider: provider) } } }
                }
            }
        } onCancel: {
            // The passes run on their own threads, outside the task: they stop at their next delivery.
            stopping.withLock { $0 = true }
        }
    }

    /// Runs `pass` again at once while it says there may be more (a full batch), else after `pollSeconds`.
    private func loop(_ pass: @escaping @Sendable () async -> Bool) async {
        while !Task.isCancelled {
            if await pass() { continue }
            do { try await Task.sleep(for: .seconds(pollSeconds)) } catch { return }  // cancelled: stop
        }
    }

    /// At start: deliveries to a provider the configuration no longer has fail (nothing would
    /// send them), and what finished more than `keepSeconds` ago is forgotten.
    func tidy() {
        do {
            let names = settings.providers.map(\.name)
            let orphaned = try store.failDeliveries(toProvidersNotIn: names, reason: "the provider is no longer in notifications.providers", now: clock())
            if orphaned > 0 { log.warning("\(orphaned) pending notification(s) to providers no longer configured: recorded as failed") }
            try store.pruneNotifications(finishedBefore: clock() - Self.keepSeconds)
        } catch {
            log.error("the notification outbox could not be tidied: \(error)")
        }
    }

    /// Gives each unrouted event its deliveries (an identical event sent to a provider within
    /// `rate-limit` is collapsed for that provider).
    /// Returns whether a full batch was routed (more may wait).
    @discardableResult
    func routeNew() -> Bool {
        do {
            let (events, unreadable) = try store.unroutedEvents(limit: Self.batch)
            for id in unreadable {
                log.error("notification event \(id) in the run store cannot be read: it is not sent", metadata: ["id": .string(id)])
                try store.markRouted(id)
            }
            for event in events {
                var providers = settings.providers(for: event)
                let defined = Set(settings.providers.map(\.name))
                for name in event.repositoryProviders ?? [] where !providers.contains(name) {
                    if defined.contains(name) { providers.append(name) } else {
                        log.warning("\(event.repository)'s notify: names provider '\(name)', which the controller's notifications.providers does not define: \(event.kind.rawValue) not sent there",
                                    metadata: ["event": .string(event.kind.rawValue), "id": .string(event.id)])
                    }
                }
                let now = clock()
                let collapsed = try store.route(event, to: providers, fingerprint: NotificationSettings.fingerprint(event),
                                                collapseSince: now - Double(settings.rateLimitSeconds), now: now)
                for provider in collapsed {
                    log.info("notification \(event.kind.rawValue) to \(provider) collapsed: an identical one was sent in the last \(DurationText.format(seconds: settings.rateLimitSeconds))")
                    ControllerMetrics.notification(provider: provider, result: "collapsed")
                }
            }
            return events.count + unreadable.count == Self.batch
        } catch {
            log.error("notifications could not be routed: \(error) (tried again in \(pollSeconds) s)")
            return false
        }
    }

    /// Events routed, or deliveries attempted, per pass.
    static let batch = 100

    /// Posts `provider`'s due deliveries, oldest first, recording each attempt. Returns whether
    /// a full batch was due (more may be).
    @discardableResult
    func deliverDue(provider: NotificationSettings.Provider) -> Bool {
        let due: [RunStore.Delivery]
        do { due = try store.dueDeliveries(provider: provider.name, now: clock(), limit: Self.batch) } catch {
            log.error("the notification outbox could not be read: \(error)")
            return false
        }
        guard !due.isEmpty else { return false }
        let client = HTTPClient()
        var recorded = true
        for delivery in due where !stopping.withLock({ $0 }) {
            recorded = attempt(delivery, provider: provider, client: client) && recorded
        }
        return due.count == Self.batch && recorded  // an unrecorded attempt waits for the next poll, not a tight loop
    }

    /// Returns whether the attempt was recorded.
    private func attempt(_ delivery: RunStore.Delivery, provider: NotificationSettings.Provider, client: HTTPClient) -> Bool {
        let event = delivery.event
        let attempts = delivery.attempts + 1
        var status: Int?
        var retryAfter: String?
        var problem: String?
        if let endpoint = endpoints[provider.name] {
            let message = NotificationMessage.render(event, for: provider.kind, structured: provider.structured, baseURL: links.base.withLock { $0 },
                                                     delivery: "\(event.id)-\(provider.name)", secret: endpoint.secret)
            let request = HTTPRequest(method: "POST", url: endpoint.url, headers: message.headers + [("User-Agent", "sluice/\(SluiceVersion.current)")],
                                      body: message.body, timeout: 10)
            let answer: Result<HTTPResponse, HTTPError>
            do throws(HTTPError) { answer = .success(try client.send(request)) } catch { answer = .failure(error) }
            switch answer {
            case .success(let response):
                status = response.status
                retryAfter = response.header("retry-after")
                if !(200..<300).contains(response.status) {
                    problem = "answered \(response.status): " + endpoint.redact(String(response.text.prefix(200)), as: provider.name)
                }
            case .failure(let error):
                // libcurl's words without the URL (it is a credential).
                problem = "no answer (\(error.kind)): " + endpoint.redact(error.message, as: provider.name)
            }
        } else {
            problem = "provider \(provider.name) has no URL"
        }
        let now = clock()
        let decision = DeliveryRetry.decide(status: status, retryAfter: retryAfter, attempts: attempts, createdAt: delivery.createdAt,
                                            windowSeconds: settings.retrySeconds, now: now)
        let metadata: Logger.Metadata = ["provider": .string(provider.name), "event": .string(event.kind.rawValue), "id": .string(event.id)]
        let state: RunStore.Delivery.State
        var retryAt: Double?
        switch decision {
        case .delivered:
            state = .delivered
            log.info("notification \(event.kind.rawValue) delivered to \(provider.name)", metadata: metadata)
            ControllerMetrics.notification(provider: provider.name, result: "delivered")
        case .retry(let at):
            state = .pending
            retryAt = at
            log.warning("notification \(event.kind.rawValue) to \(provider.name) \(problem ?? ""); retried in \(Int(at - now)) s", metadata: metadata)
            ControllerMetrics.notification(provider: provider.name, result: "retried")
        case .failed(let why):
            state = .failed
            problem = [problem, why].compactMap { $0 }.joined(separator: "; ")
            log.error("notification \(event.kind.rawValue) to \(provider.name) failed: \(problem ?? why)", metadata: metadata)
            ControllerMetrics.notification(provider: provider.name, result: "failed")
        }
        do {
            try store.recordAttempt(eventID: event.id, provider: provider.name, state: state, status: status, error: problem, retryAt: retryAt, now: now)
            return true
        } catch {
            // Not recorded: the delivery stays pending and is tried again (a receiver may see it twice; X-Sluice-Delivery tells).
            log.error("the notification attempt could not be recorded: \(error)", metadata: metadata)
            return false
        }
    }
}
