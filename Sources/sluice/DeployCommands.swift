import ArgumentParser
import FoundationEssentials
import SluiceController
import SluiceCore

struct Render: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "render",
        abstract: "Print a commit's rendered manifests (YAML, or JSON with --format json).",
        discussion: """
        The templates under deploy.manifests are rendered with the facts of the model in production \
        when the commit is production's, otherwise with the commit's own (version 'unreleased'). \
        Exit 0 rendered, 1 a template or its output is invalid (file:line:col), 2 could not read.
        """
    )

    @OptionGroup var global: GlobalOptions

    @Option(help: "The commit to render (default HEAD).")
    var commit: String = "HEAD"

    @Option(help: "The model (default: gate.model, else the repository's folder name).")
    var model: String?

    func run() async throws {
        let objects: [ManifestObject]
        do {
            objects = try ModelOperations(global, model: model).render(commit: commit)
        } catch let failure as ModelOperations.RenderFailure {
            for d in failure.diagnostics { Output.err(DiagnosticRenderer.line(d)) }
            throw ExitCode(1)
        } catch {
            throw Output.fail(error)
        }
        switch global.format {
        case .text: Output.out(try ManifestRenderer.yaml(objects))
        case .json: Output.out("[" + objects.map { NodeJSON.render($0.node) }.joined(separator: ",") + "]")
        }
    }
}

struct Deploy: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deploy",
        abstract: "Deploy the model in production to its environment (the branch target: sluice/env/<environment>).",
        discussion: "Exit 0 deployed (or already up to date), 2 could not (nothing in production, templates invalid, target unavailable)."
    )

    @OptionGroup var global: GlobalOptions

    @Flag(help: "Only show what would change.")
    var dryRun = false

    @Flag(help: "Kubernetes: apply without waiting for the rollout to become healthy.")
    var noWait = false

    @Option(help: "The model (default: gate.model, else the repository's folder name).")
    var model: String?

    func run() async throws {
        do {
            let context = try ModelOperations(global, model: model)
            let version = try context.deploy(dryRun: dryRun, wait: !noWait)
            let result = version.result
            if global.format == .json {
                try Output.json(DeployJSON(model: version.model, version: version.version, dryRun: dryRun, result: result))
                if !dryRun, result.commit != nil { context.push(["refs/heads/" + result.branch], global) }
                if result.healthy == false { throw ExitCode(1) }
                return
            }
            DiffCommand.print(result.changes)
            if result.kind == .kubernetes, result.healthy == nil, !dryRun {
                Output.out("applied \(version.model) version \(version.version) to \(result.branch) (not waiting for health)")
            } else if let healthy = result.healthy {
                Output.out("deployed \(version.model) version \(version.version) to \(result.branch): \(result.kubernetesSummary)")
                if !healthy { throw ExitCode(1) }
            } else if dryRun {
                Output.out("dry run: branch \(result.branch) not changed")
            } else if let commit = result.commit {
                Output.out("deployed \(version.model) version \(version.version): branch \(result.branch) at \(commit.prefix(12))")
                context.push(["refs/heads/" + result.branch], global)
            } else {
                Output.out("branch \(result.branch) already holds \(version.model) version \(version.version)")
            }
        } catch let e as ExitCode {
            throw e
        } catch {
            throw Output.fail(error)
        }
    }
}

/// `sluice deploy --format json`.
struct DeployJSON: Encodable {
    var model: String
    var version: String
    var dryRun: Bool
    var result: DeployService.Result
}

/// `sluice diff --format json`: the changed objects' diff lines.
struct DiffJSON: Encodable {
    var inSync: Bool
    var changes: [String]
}

struct DiffCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract: "Show what deploying the model in production would change in its environment.",
        discussion: "Exit 0 when nothing would change, 1 when something would, 2 could not tell."
    )

    @OptionGroup var global: GlobalOptions

    @Option(help: "The model (default: gate.model, else the repository's folder name).")
    var model: String?

    func run() async throws {
        let changes: [String]
        do {
            changes = try ModelOperations(global, model: model).diff()
        } catch {
            throw Output.fail(error)
        }
        if global.format == .json {
            try Output.json(DiffJSON(inSync: changes.isEmpty, changes: changes))
        } else {
            Self.print(changes)
        }
        if !changes.isEmpty { throw ExitCode(1) }
    }

    static func print(_ changes: [String]) {
        Output.out(changes.isEmpty ? "no changes" : changes.joined(separator: "\n"))
    }
}

struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "What is deployed where: the model in production and its environment branch."
    )

    @OptionGroup var global: GlobalOptions

    @Option(help: "The model (default: gate.model, else the repository's folder name).")
    var model: String?

    func run() async throws {
        do {
            let report = try ModelOperations(global, model: model).status()
            if global.format == .json { return try Output.json(report) }
            for (name, running) in report.preProduction.sorted(by: { $0.key < $1.key }) {
                let last = report.steps.last { $0.environment == name }
                Output.out("\(name): runs \(running)" + (last.map { "; last step: version \($0.version) \($0.state.rawValue) (\($0.detail))" } ?? ""))
            }
            guard let version = report.production else {
                Output.out("\(report.model): nothing in production yet")
                return printConditions(report.conditions)
            }
            Output.out("\(report.model): version \(version) in production (commit \(report.productionCommit!.prefix(12)), registry \(report.registry))")
            if let env = report.environment {
                Output.out(env.detail)
                for (name, state) in env.workloads.sorted(by: { $0.key < $1.key }) { Output.out("  \(name): \(state)") }
            } else {
                Output.out("no 'deploy' section: not deployed anywhere")
            }
            printConditions(report.conditions)
        } catch {
            throw Output.fail(error)
        }
    }

    private func printConditions(_ conditions: [String: [Condition]]) {
        for (environment, list) in conditions.sorted(by: { $0.key < $1.key }) where !list.isEmpty {
            Output.out(environment.isEmpty ? "conditions (from the controller):" : "\(environment) conditions:")
            for c in list {
                Output.out("  \(c.kind.rawValue)=\(c.status.rawValue) \(c.reason)" + (c.isTrue ? "" : ": \(c.message)")
                           + " (since \(Date(timeIntervalSince1970: c.transitionTime).formatted(.iso8601)))")
            }
        }
    }

}
