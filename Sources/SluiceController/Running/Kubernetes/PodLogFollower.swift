import SluiceCore
import SluiceKube
import SluiceRunner
#if canImport(Glibc)
import Glibc
#endif

/// Follows one container's log (`follow=true`, `timestamps=true`) into stage log lines, masked,
/// within the stage's output limit. A stream that ends while the container still runs (an API
/// server restart, a dropped connection) is reopened from the last line's time, and lines
/// already seen at that time are not repeated; after the container ended its log is read once
/// more, for the lines of a stream cut just before the end.
struct PodLogFollower: Sendable {
    let client: KubeClient
    let namespace: String
    let pod: String
    let container: String
    let masker: SecretMasker
    let limitBytes: Int
    let onLine: @Sendable (LogLine) -> Void

    /// Blocks until the container has ended and its log is read, or the pod is gone.
    func run() {
        var state = State()
        var failures = 0
        // A stream cut just before the container ends misses the lines written in between: once
        // the container has ended, the log is read once more from the last line's time.
        var finalRead = false
        while true {
            var partial: [UInt8] = []
            state.skipAtLast = state.seenAtLast
            do {
                try client.followLog(namespace: namespace, pod: pod, container: container, since: state.lastStamp) { chunk in
                    for byte in chunk {
                        if byte == 10 {
                            emit(partial, &state)
                            partial.removeAll(keepingCapacity: true)
                        } else if partial.count < 64 << 10 {
                            partial.append(byte)
                        }
                    }
                }
                if !partial.isEmpty { emit(partial, &state) }
                failures = 0
            } catch {
                // 404: the pod is gone. 400: the container is not running yet (or the request is wrong).
                if error.status == 404 { return }
                failures += 1
                if failures > 50 {
                    onLine(LogLine(time: WallClock.now(), stream: .sluice, text: "the log of pod \(pod) could not be followed: \(error)"))
                    return
                }
            }
            if finalRead { return }
            switch ended() {
            case nil: return
            case true?: finalRead = true
            case false?: usleep(failures == 0 ? 50_000 : 200_000)
            }
        }
    }

    struct State {
        /// The time of the last line emitted (RFC 3339, as the server wrote it) and how many had it.
        var lastStamp: String?
        var seenAtLast = 0
        var skipAtLast = 0
        var bytes = 0
        var truncated = false
    }

    private func emit(_ raw: [UInt8], _ state: inout State) {
        var text = String(decoding: raw, as: UTF8.self)
        if text.hasSuffix("\r") { text.removeLast() }
        guard let space = text.firstIndex(of: " ") else { return }
        let stamp = String(text[..<space])
        let body = String(text[text.index(after: space)...])
        // After a reconnect the server repeats lines from `sinceTime` on: skip what was emitted.
        if let last = state.lastStamp {
            let (a, b) = (Self.sortable(stamp), Self.sortable(last))
            if a < b { return }
            if a == b, state.skipAtLast > 0 {
                state.skipAtLast -= 1
                return
            }
        }
        if stamp == state.lastStamp {
            state.seenAtLast += 1
        } else {
            state.lastStamp = stamp
            state.seenAtLast = 1
            state.skipAtLast = 0
        }
        guard !state.truncated else { return }
        let masked = masker.mask(body)
        state.bytes += masked.utf8.count + LogLine.storedOverheadBytes
        onLine(LogLine(time: WallClock.now(), stream: .stdout, text: masked))
        if state.bytes >= limitBytes {
            state.truncated = true
            onLine(LogLine(time: WallClock.now(), stream: .sluice, text: "output limit of \(limitBytes) bytes reached; the rest of the pod's log is not kept"))
        }
    }

    /// `2026-11-30T01:57:48.12Z` -> `2026-11-30T01:57:48.120000000Z`: the kubelet trims trailing zeros.
    static func sortable(_ stamp: String) -> String {
        guard stamp.count >= 20, stamp.hasSuffix("Z") else { return stamp }
        let head = stamp.prefix(19)
        var fraction = stamp.dropFirst(19).dropLast()
        if fraction.hasPrefix(".") { fraction = fraction.dropFirst() }
        return head + "." + String(fraction.prefix(9)).padding(toLength: 9, withPad: "0", startingAt: 0) + "Z"
    }

    /// Whether the container has ended (nil: the pod is gone or cannot be read).
    private func ended() -> Bool? {
        let object: [String: Any]?
        do { object = try client.get(apiVersion: "v1", kind: "Pod", namespace: namespace, name: pod) } catch { return nil }
        guard let object else { return nil }
        let status = object["status"] as? [String: Any] ?? [:]
        let all = (status["initContainerStatuses"] as? [[String: Any]] ?? []) + (status["containerStatuses"] as? [[String: Any]] ?? [])
        guard let mine = all.first(where: { $0["name"] as? String == container }) else { return nil }
        return ((mine["state"] as? [String: Any])?["terminated"]) != nil
    }
}
