import ArgumentParser
import FoundationEssentials
import SluiceController
import SluiceCore
#if canImport(Glibc)
import Glibc
#endif

struct Runs: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "runs", abstract: "List recent runs, newest first.")

    @OptionGroup var global: GlobalOptions

    @Option(parsing: .unconditional, help: "How many runs to show.")
    var limit: Int = 20

    func validate() throws {
        if limit < 1 { throw ValidationError("--limit must be 1 or more, got \(limit)") }
    }

    @Flag(help: "Runs of every repository, not just --repo.")
    var all = false

    func run() async throws {
        let runs: [(RunRecord, [StageResultRecord])]
        do {
            let history = try RunHistory(stateDirectory: global.stateDirectory, environment: ProcessInfo.processInfo.environment)
            let repository = all ? nil : RepositorySource.stateLocation(global.repo)
            runs = try history.runs(repository: repository, limit: limit).map { ($0, try history.stages(of: $0.id!)) }
        } catch {
            throw Output.fail(error)
        }
        if global.format == .json {
            try Output.json(runs.map { RunSummary(run: $0.0, stages: $0.1) })
            return
        }
        if runs.isEmpty {
            Output.out("no runs yet\(all ? "" : " for \(RepositorySource.stateLocation(global.repo))"); start one with `sluice run`")
            return
        }
        Output.out(["ID", "STATUS", "VERDICT", "COMMIT", "REF", "STARTED (UTC)", "TOOK", "STAGES", "TRIGGER"].enumerated()
            .map { RunSummary.pad($0.element, Self.widths[$0.offset]) }.joined())
        for (run, stages) in runs {
            let ok = stages.filter(\.status.isSuccess).count
            let took = run.startedAt.flatMap { s in run.finishedAt.map { Duration.text($0 - s) } } ?? (run.status == .running ? "running" : "-")
            let started = run.startedAt.map { String(Self.timestamp($0).prefix(19)).replacingOccurrences(of: "T", with: " ") } ?? "-"
            let fields = [String(run.id!), run.status.rawValue, run.verdict ?? "-", String(run.commit.prefix(12)),
                          (run.ref ?? "-").replacingOccurrences(of: "refs/heads/", with: ""), started, took,
                          "\(ok)/\(stages.count) ok", run.trigger]
            Output.out(fields.enumerated().map { RunSummary.pad($0.element, Self.widths[$0.offset]) }.joined())
        }
    }

    static let widths = [6, 12, 20, 14, 14, 21, 9, 10, 10]

    static func timestamp(_ t: Double) -> String {
        var seconds = time_t(t)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func two(_ v: Int32) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec))"
    }
}
