/// One event's delivery to one provider, as the outbox records it.
public struct NotificationDelivery: Sendable, Hashable, Codable {
    /// `pending` until the provider accepts it (`delivered`), the retry window ends or the
    /// receiver refuses for good (`failed`), or it repeats an identical event sent within the
    /// rate-limit window (`collapsed`).
    public enum State: String, Sendable, Hashable, Codable, CaseIterable { case pending, delivered, failed, collapsed }
    public var event: NotificationEvent
    public var provider: String
    public var state: State
    public var attempts: Int
    public var nextAttemptAt: Double
    public var lastStatus: Int?
    public var lastError: String?
    public var createdAt: Double
    public var finishedAt: Double?

    public init(event: NotificationEvent, provider: String, state: State, attempts: Int, nextAttemptAt: Double, lastStatus: Int?,
                lastError: String?, createdAt: Double, finishedAt: Double?) {
        self.event = event
        self.provider = provider
        self.state = state
        self.attempts = attempts
        self.nextAttemptAt = nextAttemptAt
        self.lastStatus = lastStatus
        self.lastError = lastError
        self.createdAt = createdAt
        self.finishedAt = finishedAt
    }
}
