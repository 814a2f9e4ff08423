import ArgumentParser
import FoundationEssentials
import SluiceController
import SluiceCore
#if canImport(Glibc)
import Glibc
#endif

struct Logs: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logs",
        abstract: "Print a run's stage logs (masked, timestamped).",
        discussion: "RUN is a run id from `sluice runs`, or `last`. Without STAGE, every stage's log in pipeline order."
    )

    @OptionGroup var global: GlobalOptions

    @Argument(help: "Run id, or 'last'.")
    var run: String

    @Argument(help: "Only this stage.")
    var stage: String?

    @Flag(name: .shortAndLong, help: "Keep printing new lines until the run finishes.")
    var follow = false

    func run() async throws {
        let history: RunHistory
        let record: RunRecord
        do {
            history = try RunHistory(stateDirectory: global.stateDirectory, environment: ProcessInfo.processInfo.environment)
            guard let found = try history.find(run, repository: global.givenRepositoryKey) else {
                throw ValidationError("no run '\(run)' in \(global.stateDirectory); see `sluice runs`")
            }
            record = found
        } catch let e as ValidationError { throw Output.fail(e) } catch { throw Output.fail(error) }
        let stages = try history.stages(of: record.id!)
        if let stage, !stages.contains(where: { $0.stage == stage }) {
            throw Output.fail(ValidationError("run \(record.id!) has no stage '\(stage)' (stages: \(stages.map(\.stage).joined(separator: ", ")))"))
        }
        let wanted = stages.filter { stage == nil || $0.stage == stage }
        let prefix = stage == nil
        var offsets: [String: Int] = [:]

        while true {
            for s in try history.stages(of: record.id!) where wanted.contains(where: { $0.stage == s.stage }) {
                guard let data = try history.log(of: s) else { continue }
                let start = offsets[s.stage] ?? 0
                guard data.count > start else { continue }
                // Only whole lines; a partial last line waits for its newline.
                let bytes = [UInt8](data)[start...]
                guard let lastNewline = bytes.lastIndex(of: 10) else { continue }
                for line in bytes[start...lastNewline].split(separator: 10, omittingEmptySubsequences: false).dropLast() {
                    let text = String(decoding: line, as: UTF8.self)
                    if global.format == .json {
                        try Output.jsonLine(["run": String(record.id!), "stage": s.stage, "line": text])
                    } else {
                        Output.out((prefix ? "\(s.stage) | " : "") + text)
                    }
                }
                offsets[s.stage] = lastNewline + 1
            }
            guard follow, let current = try history.run(record.id!), !current.status.isFinished else { break }
            try await Task.sleep(for: .milliseconds(200))
        }
    }
}
