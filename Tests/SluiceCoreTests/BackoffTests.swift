import Testing
@testable import SluiceCore

@Suite struct BackoffTests {
    @Test func growsExponentiallyUpToTheCap() {
        let b = Backoff(initial: 1, multiplier: 2, maximum: 5, attempts: 6)
        #expect((1...5).map { b.ceiling(beforeRetry: $0) } == [1, 2, 4, 5, 5])
    }

    @Test func jitterStaysBetweenHalfAndTheCeiling() {
        let b = Backoff(initial: 4, attempts: 3)
        #expect(b.delay(beforeRetry: 1, random: 0) == 2)
        #expect(b.delay(beforeRetry: 1, random: 1) == 4)
        #expect(b.delay(beforeRetry: 2, random: 0.5) == 6)
    }
}
