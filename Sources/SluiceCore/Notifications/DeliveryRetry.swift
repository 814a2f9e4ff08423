/// What one delivery attempt's answer means: delivered, try again later (honouring
/// `Retry-After`, else exponential backoff), or give up (a refusal that will not change, or the
/// retry window is over).
public enum DeliveryRetry {
    public enum Decision: Hashable, Sendable {
        case delivered
        case retry(at: Double)
        case failed(String)
    }

    /// Statuses worth retrying: timeouts, throttling and a server that is down or overloaded.
    static let retryable: Set<Int> = [408, 425, 429, 500, 502, 503, 504]
    public static let firstDelay = 2.0
    public static let maximumDelay = 600.0

    /// - Parameters:
    ///   - status: the HTTP status, nil when no answer came (refused, timed out, TLS).
    ///   - attempts: attempts made so far, this one included.
    ///   - retryAfter: the `Retry-After` header (seconds; an HTTP date is treated as absent).
    public static func decide(status: Int?, retryAfter: String?, attempts: Int, createdAt: Double, windowSeconds: Int,
                              now: Double) -> Decision {
        if let status, (200..<300).contains(status) { return .delivered }
        if let status, !retryable.contains(status) {
            return .failed("the receiver answered \(status); not retried (only 408, 425, 429 and 5xx are)")
        }
        let exponent = min(max(attempts - 1, 0), 20)
        var delay = min(firstDelay * Double(1 << exponent), maximumDelay)
        if let text = retryAfter?.filter({ $0 != " " && $0 != "\t" }), let seconds = Int(text), seconds >= 0 {
            delay = Double(min(seconds, 3600))
        }
        let deadline = createdAt + Double(windowSeconds)
        guard now + delay <= deadline else {
            return .failed("gave up after \(attempts) attempt\(attempts == 1 ? "" : "s") over \(DurationText.format(seconds: windowSeconds)) (retry-for)")
        }
        return .retry(at: now + delay)
    }
}
