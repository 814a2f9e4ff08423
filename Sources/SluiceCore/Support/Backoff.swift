/// Exponential backoff with full jitter, capped: the delays between retries of an
/// operation against something outside (a git remote, an API server).
public struct Backoff: Sendable, Hashable {
    public var initial: Double
    public var multiplier: Double
    public var maximum: Double
    /// Attempts in all, including the first.
    public var attempts: Int

    public init(initial: Double = 0.5, multiplier: Double = 2, maximum: Double = 60, attempts: Int = 3) {
        self.initial = initial
        self.multiplier = multiplier
        self.maximum = maximum
        self.attempts = max(1, attempts)
    }

    /// The upper bound of the delay before retry `n` (1-based).
    public func ceiling(beforeRetry n: Int) -> Double {
        var delay = initial
        for _ in 1..<max(1, n) { delay = min(maximum, delay * multiplier) }
        return min(maximum, delay)
    }

    /// A delay in `[ceiling/2, ceiling]`: jitter spreads retries from many repositories
    /// while keeping a floor so a down remote is not hammered.
    public func delay(beforeRetry n: Int, random: Double) -> Double {
        let c = ceiling(beforeRetry: n)
        return c / 2 + c / 2 * min(max(random, 0), 1)
    }
}
