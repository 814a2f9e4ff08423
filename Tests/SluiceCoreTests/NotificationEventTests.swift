import Foundation
import Testing
@testable import SluiceCore

/// Events from their causes, routes, the retry decision and each format's limits: pure values.
@Suite struct NotificationEventTests {
    let source = EventSource(repository: "iris-prod", repositoryURL: "https://ci:s3cr3t-token@git.example.com/acme/iris.git")

    func report(_ decision: Verdict, rows: [GateReport.MetricRow], drift: [ValidationReport.Drift] = []) -> GateReport {
        var r = GateReport(model: "iris", repository: "r", ref: "refs/heads/main", commit: String(repeating: "a", count: 40), run: 42,
                           policy: "p.yaml", decision: decision, passed: decision == .promote, production: nil, metrics: rows, dataChecks: [],
                           stages: [], datasetVersions: [:], parameters: [:], artifacts: [], notes: [])
        if !drift.isEmpty {
            r.dataChecks = [.init(stage: "validate", validation: ValidationReport(data: "data/iris.csv", reference: "data/iris.csv", rows: 10,
                                                                                   verdict: .warn, checks: [], drift: drift, notes: []))]
        }
        return r
    }

    static let failing = GateReport.MetricRow(metric: "accuracy", slice: nil, candidate: 0.81, production: 0.9, delta: -0.09, rule: ">= 0.85",
                                              passed: false, reason: "below the minimum 0.85")
    static let passing = GateReport.MetricRow(metric: "f1", slice: nil, candidate: 0.9, production: 0.88, delta: 0.02, rule: ">= 0.8",
                                              passed: true, reason: "passes")

    @Test func aRejectionLeadsWithTheVerdictAndTheFailingRule() throws {
        let events = source.gate(run: 42, commit: String(repeating: "a", count: 40), model: "iris",
                                 report: report(.reject, rows: [Self.passing, Self.failing]), version: nil, promoted: false, entered: nil,
                                 error: nil, time: 1000)
        #expect(events.map(\.kind) == [.gateRejected])
        let e = try #require(events.first)
        #expect(e.title == "iris: the candidate of run 42 was rejected: accuracy = 0.81 (production 0.90): below the minimum 0.85")
        #expect(e.details == ["accuracy = 0.81 (production 0.90): below the minimum 0.85"])
        #expect(e.severity == .warning && e.link == "/runs/42" && e.run == 42)
        #expect(e.repositoryURL == "https://git.example.com/acme/iris.git", "credentials are dropped from the source")
    }

    @Test func theIdFollowsTheCauseNotTheTime() {
        let a = source.gate(run: 7, commit: "c", model: "m", report: nil, version: nil, promoted: false, entered: nil, error: "boom", time: 1)
        let b = source.gate(run: 7, commit: "c", model: "m", report: nil, version: nil, promoted: false, entered: nil, error: "boom", time: 99)
        let c = source.gate(run: 8, commit: "c", model: "m", report: nil, version: nil, promoted: false, entered: nil, error: "boom", time: 1)
        #expect(a[0].id == b[0].id && a[0].id != c[0].id && a[0].id.count == 32)
        #expect(a[0].kind == .gateCouldNotEvaluate && a[0].severity == .error)
    }

    @Test func promotionsChainsAndDriftAreSaidAsTheyHappened() {
        let promoted = source.gate(run: 3, commit: "c", model: "iris", report: report(.promote, rows: [Self.passing]), version: "7",
                                   promoted: true, entered: nil, error: nil, time: 1)
        #expect(promoted.map(\.title) == ["iris version 7 promoted to production (run 3)"])
        let chained = source.gate(run: 3, commit: "c", model: "iris", report: report(.promote, rows: [Self.passing]), version: "7",
                                  promoted: false, entered: "staging", error: nil, time: 1)
        #expect(chained.map(\.title) == ["iris version 7 passed the gate and enters staging (run 3)"])
        let lostRace = source.gate(run: 3, commit: "c", model: "iris", report: report(.promote, rows: [Self.passing]), version: "7",
                                   promoted: false, entered: nil, error: nil, time: 1)
        #expect(lostRace.isEmpty, "a promote verdict that promoted nothing says nothing")
        let drift = ValidationReport.Drift(column: "petal_length", test: "psi", statistic: 0.31, pValue: nil, thresholdOn: "statistic", warn: 0.1,
                                           fail: 0.5, verdict: .warn, method: "exact", referenceCount: 10, currentCount: 10)
        let drifted = source.gate(run: 4, commit: "c", model: "iris", report: report(.promote, rows: [Self.passing], drift: [drift]), version: "8",
                                  promoted: true, entered: nil, error: nil, time: 1)
        #expect(drifted.map(\.kind) == [.gatePromoted, .dataDrift])
        #expect(drifted[1].details == ["petal_length: psi 0.31 (warn 0.1, fail 0.5): warn"])
    }

    @Test func environmentStepsBecomeTheirEvents() {
        func step(_ state: EnvironmentStepRecord.State, _ env: String) -> EnvironmentStepRecord {
            EnvironmentStepRecord(model: "iris", version: "7", environment: env, state: state, detail: "d", actor: "sluice watch", createdAt: 5)
        }
        #expect(source.step(step(.entered, "staging"), isLast: false)?.kind == .environmentEntered)
        #expect(source.step(step(.entered, "production"), isLast: true)?.kind == .environmentPromoted)
        #expect(source.step(step(.failed, "production"), isLast: true, canary: true)?.kind == .canaryAborted)
        #expect(source.step(step(.failed, "staging"), isLast: false)?.kind == .environmentCheckFailed)
        let waiting = source.step(step(.awaitingApproval, "production"), isLast: true)
        #expect(waiting?.kind == .environmentWaitingForApproval && waiting?.link == "/models/iris")
        #expect(waiting?.details.last == "approve: sluice approve iris 7 --to production, or the button on the model page")
        #expect(source.step(step(.approved, "production"), isLast: true) == nil)
        #expect(source.condition(.drifted, message: "replicas 1 -> 3", environment: "prod", since: 9)?.kind == .driftDetected)
        #expect(source.condition(.inSync, message: "", environment: "prod", since: 9) == nil)
    }

    /// Two weights of one canary are two pieces of news: the rate limit (which collapses an
    /// identical event) must not swallow the second; the weight is in the title.
    @Test func eachCanaryWeightIsItsOwnNotification() throws {
        func weight(_ detail: String, at time: Double) throws -> NotificationEvent {
            try #require(source.step(EnvironmentStepRecord(model: "iris", version: "7", environment: "production", state: .canary, detail: detail,
                                                           actor: "sluice watch", createdAt: time), isLast: true))
        }
        let first = try weight("25 %: analysis passed", at: 5), second = try weight("50 %: analysis passed", at: 9)
        #expect(first.kind == .canaryStep && first.title == "iris version 7 canary at 25 % in production", "\(first.title)")
        #expect(NotificationSettings.fingerprint(first) != NotificationSettings.fingerprint(second))
    }

    @Test func routesPickByKindSeverityAndGlobs() throws {
        var settings = NotificationSettings()
        var chat = NotificationSettings.Route(providers: ["chat"])
        chat.events = [.gateRejected, .gatePromoted]
        var hooks = NotificationSettings.Route(providers: ["hook", "bus"])
        hooks.severity = .warning
        hooks.repositories = [try Glob("iris*")]
        settings.routes = [chat, hooks]
        let rejected = source.gate(run: 1, commit: "c", model: "iris", report: report(.reject, rows: [Self.failing]), version: nil,
                                   promoted: false, entered: nil, error: nil, time: 1)[0]
        #expect(settings.providers(for: rejected) == ["chat", "hook", "bus"])
        let other = EventSource(repository: "churn", repositoryURL: "/r").gate(run: 1, commit: "c", model: "m", report: nil, version: nil,
                                                                              promoted: false, entered: nil, error: "x", time: 1)[0]
        #expect(settings.providers(for: other) == [], "another repository, and not a kind the chat route takes")
        let entered = source.step(EnvironmentStepRecord(model: "iris", version: "1", environment: "s", state: .entered, detail: "", actor: "a",
                                                        createdAt: 1), isLast: false)!
        #expect(settings.providers(for: entered) == [], "info is below the hooks' severity")
    }

    @Test func retriesHonourRetryAfterBackOffAndGiveUp() {
        #expect(DeliveryRetry.decide(status: 200, retryAfter: nil, attempts: 1, createdAt: 0, windowSeconds: 60, now: 0) == .delivered)
        #expect(DeliveryRetry.decide(status: 503, retryAfter: "7", attempts: 1, createdAt: 0, windowSeconds: 60, now: 10) == .retry(at: 17))
        #expect(DeliveryRetry.decide(status: nil, retryAfter: nil, attempts: 3, createdAt: 0, windowSeconds: 60, now: 10) == .retry(at: 18))
        #expect(DeliveryRetry.decide(status: 429, retryAfter: "Wed, 21 Oct 2015 07:28:00 GMT", attempts: 1, createdAt: 0, windowSeconds: 60,
                                     now: 0) == .retry(at: 2))
        guard case .failed(let why) = DeliveryRetry.decide(status: 404, retryAfter: nil, attempts: 1, createdAt: 0, windowSeconds: 60, now: 0) else {
            Issue.record("a 404 is not retried")
            return
        }
        #expect(why.contains("404"))
        guard case .failed = DeliveryRetry.decide(status: 503, retryAfter: "120", attempts: 2, createdAt: 0, windowSeconds: 60, now: 0) else {
            Issue.record("past the window the delivery fails")
            return
        }
        #expect(DeliveryRetry.decide(status: 503, retryAfter: nil, attempts: 60, createdAt: 0, windowSeconds: 100_000, now: 0)
                == .retry(at: DeliveryRetry.maximumDelay), "backoff is capped, the shift bounded")
    }

    @Test func longTextStaysWithinEachFormatsLimits() throws {
        let long = String(repeating: "x", count: 5000)
        let rows = (0..<80).map { GateReport.MetricRow(metric: "m\($0) \(long)", slice: nil, candidate: 1, production: 2, delta: -1, rule: "r",
                                                       passed: false, reason: long) }
        let event = source.gate(run: 1, commit: "c", model: "iris", report: report(.reject, rows: rows), version: nil, promoted: false,
                                entered: nil, error: nil, time: 1)[0]
        #expect(event.title.count <= NotificationEvent.titleLimit && event.details.count == NotificationEvent.detailLimit)
        let slack = NotificationMessage.render(event, for: .slack, baseURL: "https://sluice.example.com", delivery: "d", secret: nil)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(slack.body)) as? [String: Any])
        let blocks = try #require(object["blocks"] as? [[String: Any]])
        #expect(blocks.count <= 50)
        for block in blocks {
            if let text = (block["text"] as? [String: Any])?["text"] as? String {
                #expect(text.count <= (block["type"] as? String == "header" ? 150 : 3000))
            }
        }
        #expect((object["text"] as? String)?.count ?? 0 <= 3000)
    }

    @Test func theWebhookIsSignedAndSecretsInTextAreMasked() throws {
        let event = source.runFailed(run: 9, commit: "c", message: nil,
                                     failures: [("train", ["token ghp_abcdefghijklmnopqrstuvwxyz0123", "Traceback"])], time: 1)
        #expect(event.details.joined().contains("ghp_") == false, "\(event.details)")
        let message = NotificationMessage.render(event, for: .webhook, baseURL: "http://x", delivery: "dlv-1", secret: "k3y")
        let headers = Dictionary(uniqueKeysWithValues: message.headers.map { ($0.name, $0.value) })
        #expect(headers["X-Sluice-Event"] == "run.failed" && headers["X-Sluice-Delivery"] == "dlv-1")
        #expect(headers["X-Sluice-Signature-256"]?.hasPrefix("sha256=") == true && headers["X-Sluice-Signature-256"]?.count == 71)
        let binary = NotificationMessage.render(event, for: .cloudevents, baseURL: "http://x", delivery: "d", secret: nil)
        let ce = Dictionary(uniqueKeysWithValues: binary.headers.map { ($0.name, $0.value) })
        #expect(ce["ce-type"] == "dev.sluice.run.failed" && ce["ce-id"] == event.id && ce["ce-source"] == "https://git.example.com/acme/iris.git")
        #expect(CloudEventsFormat.sourceURI("git@github.com:acme/iris.git") == "ssh://git@github.com/acme/iris.git")
        #expect(CloudEventsFormat.sourceURI("/srv/git/iris") == "file:///srv/git/iris")
    }
}
