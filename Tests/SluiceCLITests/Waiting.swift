import Foundation
import Testing
import SluiceTestSupport

/// Polls `condition` until it holds; records a test issue naming `what` after `timeout` seconds
/// (and returns false).
/// (A thread sleep, not a Swift task timer: blocking tests can starve the cooperative pool.)
@discardableResult
func waitUntil(_ what: String, timeout: Double = 30, _ condition: () throws -> Bool) throws -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if try condition() { return true }
        Thread.sleep(forTimeInterval: 0.2)
    }
    Issue.record("timed out waiting for \(what)")
    return false
}

/// Waits until the controller at `base` has finished `count` more reconciles (each changes its
/// `sluice_last_successful_poll_timestamp_seconds`): what a test needs before saying that
/// something did *not* happen, without guessing a sleep.
func waitForPolls(_ base: String, count: Int, timeout: Double = 60) throws {
    func lastPoll() throws -> String {
        let metrics = try ProcessRunner.run("curl", ["-s", "--max-time", "5", base + "/metrics"]).stdout
        return metrics.split(separator: "\n").filter { $0.hasPrefix("sluice_last_successful_poll_timestamp_seconds{") }.joined(separator: ";")
    }
    var seen = try lastPoll()
    var polls = 0
    try waitUntil("\(count) more polls", timeout: timeout) {
        let now = try lastPoll()
        if now != seen { polls += 1; seen = now }
        return polls >= count
    }
}
