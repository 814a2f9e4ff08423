/// Runs `operation`, retrying failures that `isTransient` accepts with `backoff`
/// between attempts; the last error is rethrown with how many attempts were made.
public func retrying<T, E: Error>(
    _ backoff: Backoff,
    isTransient: (E) -> Bool,
    sleep: (Double) -> Void,
    onRetry: (Int, E, Double) -> Void = { _, _, _ in },
    _ operation: () throws(E) -> T
) throws(E) -> T {
    var attempt = 1
    while true {
        do throws(E) {
            return try operation()
        } catch {
            guard attempt < backoff.attempts, isTransient(error) else { throw error }
            let delay = backoff.delay(beforeRetry: attempt, random: Double.random(in: 0...1))
            onRetry(attempt, error, delay)
            sleep(delay)
            attempt += 1
        }
    }
}
