import Foundation
import Testing

/// Polls `condition` until it holds; records a test issue naming `what` after `timeout` seconds.
/// (A thread sleep, not a Swift task timer: blocking tests can starve the cooperative pool.)
func waitUntil(_ what: String, timeout: Double = 30, _ condition: () throws -> Bool) throws {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if try condition() { return }
        Thread.sleep(forTimeInterval: 0.2)
    }
    Issue.record("timed out waiting for \(what)")
}
