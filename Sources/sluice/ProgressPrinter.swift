import FoundationEssentials
import SluiceController
import SluiceCore
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Shows a run as it goes. On a terminal: one live row per stage (state, elapsed,
/// last log line), redrawn in place at most ten times a second. Otherwise: one plain
/// line per stage start and finish, good for CI logs and pipes.
final class ProgressPrinter: Sendable {
    struct Row {
        var state = "pending"
        var started: Double?
        var finished: Double?
        var lastLine = ""
    }

    struct State {
        var rows: [String: Row] = [:]
        var drawnLines = 0
        var lastDraw = 0.0
    }

    let order: [String]
    let live: Bool
    let quiet: Bool
    private let state: Mutex<State>

    init(stages: [String], live: Bool, quiet: Bool) {
        order = stages
        self.live = live
        self.quiet = quiet
        state = Mutex(State(rows: Dictionary(uniqueKeysWithValues: stages.map { ($0, Row()) })))
    }

    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    func handle(_ event: RunEvent) {
        guard !quiet else { return }
        let now = Self.now()
        state.withLock { s in
            switch event {
            case .runStarted(let id, let commit, _):
                if !live { Output.out("run \(id): commit \(commit.prefix(12))") } else { Output.out("run \(id): commit \(commit.prefix(12))") }
            case .stageStarted(let stage):
                s.rows[stage]?.state = "running"
                s.rows[stage]?.started = now
                if !live { Output.out("\(stage): started") }
            case .stageLine(let stage, let line):
                s.rows[stage]?.lastLine = line.text
            case .stageFinished(let stage, let status, let message, let seconds):
                s.rows[stage]?.state = status.rawValue
                s.rows[stage]?.finished = now
                if !live { Output.out("\(stage): \(status.rawValue) after \(Duration.text(seconds))" + (message.map { ": \($0)" } ?? "")) }
            case .runFinished:
                break
            }
            if live, now - s.lastDraw > 0.1 || { if case .stageFinished = event { return true } else { return false } }() {
                draw(&s, now: now)
            }
        }
    }

    func finish() {
        guard live else { return }
        state.withLock { s in draw(&s, now: Self.now()) }
    }

    private func draw(_ s: inout State, now: Double) {
        var width = 80
        var size = winsize()
        if ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 20 { width = Int(size.ws_col) }
        var text = s.drawnLines > 0 ? "\u{1B}[\(s.drawnLines)A" : ""
        for name in order {
            guard let row = s.rows[name] else { continue }
            let elapsed = row.started.map { Duration.text((row.finished ?? now) - $0) } ?? ""
            var line = RunSummary.pad(name, 14) + RunSummary.pad(row.state, 11) + RunSummary.pad(elapsed, 8)
                + row.lastLine.replacingOccurrences(of: "\t", with: " ")
            if line.count > width - 1 { line = String(line.prefix(width - 1)) }
            text += "\u{1B}[2K" + line + "\n"
        }
        s.drawnLines = order.count
        s.lastDraw = now
        _ = text.utf8CString.withUnsafeBufferPointer { write(STDOUT_FILENO, $0.baseAddress, $0.count - 1) }
    }
}
