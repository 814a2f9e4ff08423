import FoundationEssentials
import SluiceCore

/// The JSON printed by `sluice run --format json` and `sluice runs --format json`.
struct RunSummary: Encodable {
    var run: RunRecord
    var stages: [StageResultRecord]
    var gate: GateReport? = nil

    static func text(run: RunRecord, stages: [StageResultRecord], order: [String]) -> String {
        let byName = Dictionary(uniqueKeysWithValues: stages.map { ($0.stage, $0) })
        var lines: [String] = []
        for name in order {
            guard let s = byName[name] else { continue }
            let seconds = s.startedAt.flatMap { start in s.finishedAt.map { Duration.text($0 - start) } } ?? "-"
            let detail = s.message ?? (s.status == .cached ? "cache hit" + (s.cachedFrom.map { " from run \($0)" } ?? "") : s.status == .skipped ? s.reasons : "")
            lines.append("  \(pad(name, 14)) \(pad(s.status.rawValue, 11)) \(pad(seconds, 8)) \(detail)")
        }
        lines.append("run \(run.id!): \(run.status.rawValue)" + (run.message.map { ": \($0)" } ?? "") + "  (logs: sluice logs \(run.id!) [STAGE])")
        return lines.joined(separator: "\n")
    }

    static func pad(_ s: String, _ n: Int) -> String { s + String(repeating: " ", count: max(1, n - s.count)) }
}

enum Duration {
    static func text(_ seconds: Double) -> String {
        if seconds < 1 { return "\(Int(seconds * 1000))ms" }
        if seconds < 60 { return "\(Int(seconds * 10) / 10).\(Int(seconds * 10) % 10)s" }
        return "\(Int(seconds) / 60)m\(Int(seconds) % 60)s"
    }
}
