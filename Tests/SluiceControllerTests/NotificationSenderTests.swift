import Foundation
import Synchronization
import Testing
import SluiceCore
import SluiceStore
import SluiceTestSupport
@testable import SluiceController

/// The sender against a real receiver that checks each format's documented structure (and the
/// CloudEvents SDK's parser), over a real run store: formats, retries, refusals, collapsing,
/// and no receiver URL written anywhere.
@Suite struct NotificationSenderTests {
    let source = EventSource(repository: "iris", repositoryURL: "/srv/git/iris")

    func rejected(run: Int64) -> NotificationEvent {
        source.gate(run: run, commit: String(repeating: "b", count: 40), model: "iris", report: nil, version: nil, promoted: false, entered: nil,
                    error: "the policy file is missing", time: WallClock.now())[0]
    }

    func provider(_ name: String, _ kind: NotificationSettings.ProviderKind, structured: Bool = false) -> NotificationSettings.Provider {
        var p = NotificationSettings.Provider(name: name, kind: kind, url: .environment("UNUSED"), location: SourceLocation(file: "c.yaml", line: 1, column: 1))
        p.structured = structured
        return p
    }

    /// Runs a sender's passes over `store` until `done` holds (at most 1,000 passes), called in
    /// turn from the test's thread (the passes are blocking work), with the sender's clock stepped
    /// a second between passes: a `Retry-After: 1` is due at the next pass, without waiting for it.
    func deliver(_ store: RunStore, providers: [(NotificationSettings.Provider, String)], secret: String? = nil,
                 until done: @escaping @Sendable () throws -> Bool) throws {
        var settings = NotificationSettings()
        settings.providers = providers.map(\.0)
        settings.routes = [NotificationSettings.Route(providers: providers.map(\.0.name))]
        let endpoints = Dictionary(uniqueKeysWithValues: providers.map { ($0.0.name, NotificationEndpoint(url: $0.1, secret: secret)) })
        let now = Mutex(WallClock.now())
        let sender = NotificationSender(store: store, settings: settings, endpoints: endpoints, baseURL: "https://sluice.example.com",
                                        clock: { now.withLock { $0 } })
        sender.tidy()
        for _ in 0..<1_000 {
            sender.routeNew()
            for provider in settings.providers { sender.deliverDue(provider: provider) }
            if try done() { return }
            now.withLock { $0 += 1 }
        }
        Issue.record("the deliveries did not finish in 1,000 passes")
    }

    @Test func everyFormatIsAcceptedByAReceiverThatChecksIt() throws {
        let receiver = try NotificationReceiver(secret: "hmac-key")
        let state = TemporaryDirectory()
        let store = try RunStore(stateDirectory: state.path)
        try store.recordEvents([rejected(run: 1)])
        let providers = [(provider("s", .slack), receiver.url("slack")), (provider("t", .msteams), receiver.url("msteams")),
                         (provider("g", .googlechat), receiver.url("googlechat")), (provider("w", .webhook), receiver.url("webhook")),
                         (provider("cb", .cloudevents), receiver.url("cloudevents")),
                         (provider("cs", .cloudevents, structured: true), receiver.url("cloudevents"))]
        try deliver(store, providers: providers, secret: "hmac-key") {
            try store.recentDeliveries().filter { $0.state == .delivered }.count == 6
        }
        let got = try receiver.deliveries()
        #expect(got.count == 6)
        for d in got { #expect(d.valid == true, "\(d.path): \(d.problem ?? "")") }
        let ce = got.filter { $0.path == "/cloudevents" }
        #expect(Set(ce.map { $0.headers["content-type"] ?? "" }) == ["application/json", "application/cloudevents+json"])
        #expect(ce.allSatisfy { ($0.json["type"] as? String) == "gate.could-not-evaluate" })
    }

    @Test func aReceiverAnswering503ThreeTimesGetsTheEventExactlyOnce() throws {
        let receiver = try NotificationReceiver(failFirst: 3)
        let state = TemporaryDirectory()
        let store = try RunStore(stateDirectory: state.path)
        try store.recordEvents([rejected(run: 2)])
        try store.recordEvents([rejected(run: 2)])  // the same cause recorded again: one event
        try deliver(store, providers: [(provider("s", .slack), receiver.url("slack"))]) {
            try store.recentDeliveries().first?.state == .delivered
        }
        let delivery = try #require(try store.recentDeliveries().first)
        #expect(delivery.attempts == 4 && delivery.lastStatus == 200)
        let got = try receiver.deliveries()
        #expect(got.map(\.answered) == [503, 503, 503, 200], "Retry-After: 1 honoured; delivered once")
    }

    @Test func aRefusalIsNotRetriedAndIdenticalEventsAreCollapsed() throws {
        let receiver = try NotificationReceiver()
        let state = TemporaryDirectory()
        let store = try RunStore(stateDirectory: state.path)
        // Two failed deploys of the same place and words (two transitions): the second is collapsed.
        let first = source.condition(.deployFailed, message: "image pull failed", environment: "prod", since: 1)!
        let second = source.condition(.deployFailed, message: "image pull failed", environment: "prod", since: 2)!
        #expect(first.id != second.id)
        try store.recordEvents([first, second])
        let secretPath = "/no-such-receiver/T0123/B0456/s3cr3tw3bh00k"
        try deliver(store, providers: [(provider("s", .slack), receiver.url("slack")),
                                             (provider("gone", .webhook), receiver.url(String(secretPath.dropFirst())))], secret: "k") {
            let all = try store.recentDeliveries()
            return all.count == 4 && all.allSatisfy { $0.state != .pending }
        }
        let deliveries = try store.recentDeliveries()
        #expect(deliveries.filter { $0.provider == "s" }.map(\.state).sorted { $0.rawValue < $1.rawValue } == [.collapsed, .delivered])
        let refused = deliveries.filter { $0.provider == "gone" && $0.state == .failed }
        #expect(refused.count == 1 && refused.first?.attempts == 1 && refused.first?.lastStatus == 400)
        #expect(refused.first?.lastError?.contains("400") == true)
        // The receiver's URL (a credential for Slack and Teams) is nowhere in the state folder.
        for file in try FileManager.default.contentsOfDirectory(atPath: state.path) {
            let bytes = FileManager.default.contents(atPath: state.path + "/" + file) ?? Data()
            #expect(bytes.range(of: Data("s3cr3tw3bh00k".utf8)) == nil, "\(file) holds the receiver URL")
        }
    }

    @Test func unreadableEventsAndRemovedProvidersDoNotStopTheRest() throws {
        let receiver = try NotificationReceiver()
        let state = TemporaryDirectory()
        let store = try RunStore(stateDirectory: state.path)
        // A delivery pending for a provider that the configuration has since dropped.
        let old = rejected(run: 1)
        try store.recordEvents([old])
        try store.route(old, to: ["retired"], fingerprint: "f", collapseSince: 0, now: WallClock.now())
        // An event row another version wrote, or a damaged one.
        let insert = "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute(\"INSERT INTO notification_events (id, kind, repository, body, createdAt) VALUES ('bad', 'x', 'r', '{not json', 0)\"); c.commit()"
        let r = try ProcessRunner.run("python3", ["-c", insert, state.path + "/" + RunStore.fileName])
        #expect(r.status == 0, "\(r.stderr)")
        try store.recordEvents([rejected(run: 2)])
        try deliver(store, providers: [(provider("s", .slack), receiver.url("slack"))]) {
            try store.recentDeliveries().contains { $0.provider == "s" && $0.state == .delivered }
        }
        let all = try store.recentDeliveries()
        #expect(all.first { $0.provider == "retired" }?.state == .failed)
        #expect(all.first { $0.provider == "retired" }?.lastError == "the provider is no longer in notifications.providers")
        #expect(try store.unroutedEvents().events.isEmpty && store.unroutedEvents().unreadable.isEmpty, "the unreadable one is set aside")
        #expect(try receiver.deliveries().count == 1, "the readable new event reached the provider")
    }
}
