import ArgumentParser
import FoundationEssentials
import SluiceController
import SluiceCore

/// Options shared by `promote` and `rollback`.
struct ChangeOptions: ParsableArguments {
    @Option(help: "Why (recorded in the promotion log and the git note).")
    var reason: String

    @Option(help: "Who is doing it (default: $USER).")
    var actor: String?

    @Option(help: "The model (default: gate.model in sluice.yaml, else the repository's folder name).")
    var model: String?

    var who: String { actor ?? OperatorName.current(environment: ProcessInfo.processInfo.environment) }
}

extension ModelOperations {
    /// Opens what the model commands need.
    init(_ global: GlobalOptions, model: String?) throws {
        try self.init(location: global.repo, stateDirectory: global.stateDirectory, model: model, environment: ProcessInfo.processInfo.environment)
    }

    /// Pushes Sluice's refs back when the repository is remote; a failure is a warning.
    func push(_ refs: [String], _ global: GlobalOptions) {
        if let problem = push(refs) { Output.err("sluice: warning: \(problem)") }
    }

    /// What a promotion or rollback did, for `--format json`.
    struct ChangeJSON: Encodable {
        var entry: PromotionRecord
        var deployment: DeployService.Result?
        var deployProblem: String?
        var problems: [String]
    }

    /// Reports what happened to the environment (text, or JSON with the log entry) and pushes what changed.
    func finish(_ change: Promotion.Change, _ global: GlobalOptions) throws {
        if global.format == .json {
            try Output.json(ChangeJSON(entry: change.entry, deployment: change.deployment, deployProblem: change.deployProblem, problems: change.problems))
            push(change.refs, global)
            return
        }
        for problem in change.problems { Output.err("sluice: warning: \(problem)") }
        if let d = change.deployment {
            if d.kind == .kubernetes {
                Output.out("deploy: \(d.branch): \(d.kubernetesSummary)")
            } else {
                Output.out(d.commit.map { "deploy: branch \(d.branch) updated (\($0.prefix(12)))" } ?? "deploy: branch \(d.branch) already up to date")
            }
        } else if let problem = change.deployProblem {
            Output.err("sluice: warning: the environment was not updated: \(problem)")
        }
        push(change.refs, global)
    }
}

struct Promote: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "promote",
        abstract: "Put a run's candidate into production by hand (recorded with who and why).",
        discussion: "See the log with `sluice rollback --list`. Exit 0 done, 2 could not (no such run, no metrics, already in production)."
    )

    @OptionGroup var global: GlobalOptions
    @OptionGroup var change: ChangeOptions

    @Argument(help: "The run whose candidate to promote.")
    var run: Int64

    func run() async throws {
        do {
            let context = try ModelOperations(global, model: change.model)
            let result = try context.promote(run: run, actor: change.who, reason: change.reason)
            if global.format == .text {
                Output.out("\(context.model) version \(result.entry.version) is in production (was \(result.entry.previousVersion ?? "none")); logged: \(change.reason)")
            }
            try context.finish(result, global)
        } catch {
            throw Output.fail(error)
        }
    }
}

struct Rollback: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rollback",
        abstract: "Put the previous production model back (or --to VERSION), recorded with who and why.",
        discussion: "With --list, prints the promotion log instead. Exit 0 done, 2 could not."
    )

    @OptionGroup var global: GlobalOptions

    @Option(help: "Why (recorded in the promotion log and the git note).")
    var reason: String?

    @Option(help: "Who is doing it (default: $USER).")
    var actor: String?

    @Option(help: "The model (default: gate.model in sluice.yaml, else the repository's folder name).")
    var model: String?

    @Option(help: "The version to go back to (default: the one before the current).")
    var to: String?

    @Flag(help: "Print the promotion log and exit.")
    var list = false

    func run() async throws {
        do {
            let context = try ModelOperations(global, model: model)
            if list {
                let log = try context.promotionLog()
                if global.format == .json { try Output.json(log); return }
                if log.isEmpty { Output.out("\(context.model) has never been promoted") }
                for e in log {
                    Output.out("\(Runs.timestamp(e.createdAt))  \(e.action.rawValue)  version \(e.version)  (from \(e.previousVersion ?? "none"))  commit \(e.commit.prefix(12))  by \(e.actor): \(e.reason)")
                }
                return
            }
            guard let reason else { throw LoadError(message: "--reason is required: say why you roll back") }
            let result = try context.rollback(to: to, actor: actor ?? OperatorName.current(environment: ProcessInfo.processInfo.environment), reason: reason)
            if global.format == .text {
                Output.out("\(context.model) rolled back to version \(result.entry.version) (from \(result.entry.previousVersion ?? "?")); logged: \(reason)")
            }
            try context.finish(result, global)
        } catch {
            throw Output.fail(error)
        }
    }
}
