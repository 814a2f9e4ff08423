import FoundationEssentials
import SluiceCore
import SluiceStore

/// The merge request's preview comment (one per merge request, updated in place): where the
/// candidate runs, each check's result, how long it stays; or that it was deleted, and why. It
/// is a comment of its own beside the gate report's: it changes after the run (a TTL, a close)
/// without the gate report being written again.
enum PreviewComment {
    static let marker = "<!-- sluice-preview -->"

    static func ready(_ outcome: PreviewDeployer.Outcome, model: String, run: String) -> String {
        let p = outcome.record
        let heading = p.state == .ready ? "✅ ready" : "❌ " + (outcome.checks.isEmpty ? "not healthy" : "a check did not pass")
        var lines = [marker, "## Sluice preview: \(heading)", "",
                     "\(model) as built by \(run) (commit `\(CommitID(p.commit).short)`) runs \(where_(p))."
                        + (outcome.url.map { " It answers at \($0)." } ?? "")]
        if outcome.checks.isEmpty {
            lines.append(p.state == .ready ? "The environment `\(p.environment)` declares no checks." : p.detail)
        } else {
            lines += ["", "| check | result | detail |", "|---|---|---|"]
            for c in outcome.checks {
                let mark = c.verdict == .passed ? "✅" : c.verdict == .failed ? "❌" : "⚠️"
                lines.append("| \(c.check) | \(mark) \(c.verdict.rawValue) | \(cell(c.detail)) |")
            }
        }
        lines += ["", "It stays until \(EnvironmentChain.time(p.expiresAt)) (its ttl after the last push); a new push replaces it, "
                  + "and closing or merging the merge request deletes it."]
        return lines.joined(separator: "\n") + "\n"
    }

    /// - Parameter removed: what its target removed, in words (`deleted 5 object(s)`, and what it left in place).
    static func deleted(_ p: RunStore.Preview, why: String, removed: String) -> String {
        [marker, "## Sluice preview: deleted", "", "The preview that ran \(where_(p)) (commit `\(CommitID(p.commit).short)`) was deleted: \(why).",
         "", "Sluice \(removed)."]
            .joined(separator: "\n") + "\n"
    }

    static func failed(_ error: String) -> String {
        [marker, "## Sluice preview: ⚠️ not deployed", "", cell(error)].joined(separator: "\n") + "\n"
    }

    static func where_(_ p: RunStore.Preview) -> String {
        p.target == DeploySpec.Target.kubernetes.rawValue
            ? "in namespace `\(p.place)`" + (p.context.map { " (kubernetes context `\($0)`)" } ?? "") + " with `\(p.environment)`'s settings"
            : "on branch `\(p.place)` with `\(p.environment)`'s settings"
    }

    /// A table cell: one line, no pipes, at most 300 characters.
    static func cell(_ text: String) -> String {
        let line = text.replacingOccurrences(of: "\n", with: " ").replacingOccurrences(of: "|", with: "\\|")
        return line.count > 300 ? String(line.prefix(299)) + "…" : line
    }
}
