import ArgumentParser
import FoundationEssentials
import SluiceController
import SluiceCore
import SluiceGit
import SluiceRegistry
import SluiceStore

/// Options shared by `promote` and `rollback`.
struct ChangeOptions: ParsableArguments {
    @Option(help: "Why (recorded in the promotion log and the git note).")
    var reason: String

    @Option(help: "Who is doing it (default: $USER).")
    var actor: String?

    @Option(help: "The model (default: gate.model in sluice.yaml, else the repository's folder name).")
    var model: String?

    var who: String { actor ?? ProcessInfo.processInfo.environment["USER"] ?? "unknown" }
}

/// Opens what both commands need.
struct RegistryContext {
    let store: RunStore
    let repository: GitRepository
    let model: String

    init(_ global: GlobalOptions, model: String?) throws {
        store = try RunStore(stateDirectory: global.stateDirectory)
        repository = try RepositorySource.open(global.repo, stateDirectory: global.stateDirectory,
                                               credentials: GitCredentials.fromEnvironment(ProcessInfo.processInfo.environment))
        self.model = try model ?? Promotion.modelName(repository: repository, repositoryKey: RepositorySource.stateLocation(global.repo))
    }

    /// The registry named by `sluice.yaml` at HEAD (embedded unless `gate.registry: mlflow`).
    var promotion: Promotion {
        get throws {
            // No HEAD yet (an empty repository): no spec, the embedded registry.
            let gate = try repository.resolveReference("HEAD").flatMap { try CommittedSpec.load(repository: repository, commit: $0)?.gate }
            return Promotion(store: store, registry: try RunService.registry(for: gate, store: store,
                                                                              environment: ProcessInfo.processInfo.environment),
                             environment: ProcessInfo.processInfo.environment)
        }
    }

    /// Pushes Sluice's refs (notes, environment branches) back when the repository is remote.
    func push(_ refs: [String], _ global: GlobalOptions) {
        guard RepositorySource.isRemote(global.repo), !refs.isEmpty else { return }
        do {
            try GitMirror.push(repository, refs: refs, url: global.repo,
                               credentials: GitCredentials.fromEnvironment(ProcessInfo.processInfo.environment))
        } catch {
            Output.err("sluice: warning: \(refs.joined(separator: ", ")) not pushed to \(global.repo): \(error)")
        }
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
            let context = try RegistryContext(global, model: change.model)
            let result = try context.promotion.promote(runID: run, model: context.model, actor: change.who, reason: change.reason,
                                                       repository: context.repository)
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
            let context = try RegistryContext(global, model: model)
            if list {
                let log = try context.store.promotions(model: context.model)
                if global.format == .json { try Output.json(log); return }
                if log.isEmpty { Output.out("\(context.model) has never been promoted") }
                for e in log {
                    Output.out("\(Runs.timestamp(e.createdAt))  \(e.action.rawValue)  version \(e.version)  (from \(e.previousVersion ?? "none"))  commit \(e.commit.prefix(12))  by \(e.actor): \(e.reason)")
                }
                return
            }
            guard let reason else { throw LoadError(message: "--reason is required: say why you roll back") }
            let result = try context.promotion.rollback(model: context.model, to: to, actor: actor ?? ProcessInfo.processInfo.environment["USER"] ?? "unknown",
                                                        reason: reason, repository: context.repository)
            if global.format == .text {
                Output.out("\(context.model) rolled back to version \(result.entry.version) (from \(result.entry.previousVersion ?? "?")); logged: \(reason)")
            }
            try context.finish(result, global)
        } catch {
            throw Output.fail(error)
        }
    }
}
