import ArgumentParser
import FoundationEssentials
import SluiceController
import SluiceCore
import SluiceGit
import SluiceKube
import SluiceRegistry
import SluiceStore

/// The repository, store and registry the deploy commands share.
struct DeployContext {
    let registry: RegistryContext
    let environments: Environments

    init(_ global: GlobalOptions, model: String?) throws {
        registry = try RegistryContext(global, model: model)
        environments = Environments(registry: try registry.promotion.registry, store: registry.store,
                                    environment: ProcessInfo.processInfo.environment)
    }

    /// The version in production, or a clear error.
    func production() throws -> RegisteredVersion {
        guard let version = try environments.registry.production(model: registry.model) else {
            throw LoadError(message: "\(registry.model) has no version in production yet", hint: "run `sluice run` on the production branch first")
        }
        return version
    }
}

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
            let context = try DeployContext(global, model: model)
            let repository = context.registry.repository
            let target = try repository.commit(commit)
            guard let spec = try CommittedSpec.load(repository: repository, commit: target.id) else {
                throw LoadError(message: "commit \(target.id.prefix(12)) has no valid \(CommitPlanner.specFile)", hint: "run `sluice validate`")
            }
            guard let deploy = spec.deploy else { throw LoadError(message: "\(CommitPlanner.specFile) has no 'deploy' section: nothing to render") }
            var version = RegisteredVersion(model: context.registry.model, version: "unreleased", commit: target.id, runID: nil,
                                            metrics: MetricSet(), datasetVersions: DatasetVersions.read(spec, in: target).versions, artifactDigest: nil)
            if let production = try context.environments.registry.production(model: context.registry.model), production.commit == target.id {
                version = production
            }
            let facts = DeployService.facts(for: version, deploy: deploy, registryKind: context.environments.registry.kind)
            do {
                objects = try ManifestRenderer.render(commit: target, deploy: deploy, facts: facts, environment: ProcessInfo.processInfo.environment)
            } catch {
                for d in error.diagnostics { Output.err(DiagnosticRenderer.line(d)) }
                throw ExitCode(1)
            }
        } catch let e as ExitCode { throw e } catch {
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
            let context = try DeployContext(global, model: model)
            let version = try context.production()
            guard let result = try context.environments.deploy(version, repository: context.registry.repository, action: "Deploy",
                                                               dryRun: dryRun, wait: !noWait) else {
                throw LoadError(message: "\(CommitPlanner.specFile) of version \(version.version) has no 'deploy' section")
            }
            if global.format == .json {
                try Output.json(DeployJSON(model: version.model, version: version.version, dryRun: dryRun, result: result))
                if !dryRun, result.commit != nil { context.registry.push(["refs/heads/" + result.branch], global) }
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
                context.registry.push(["refs/heads/" + result.branch], global)
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
            let context = try DeployContext(global, model: model)
            let version = try context.production()
            changes = try context.environments.deploy(version, repository: context.registry.repository, action: "Deploy", dryRun: true)?.changes ?? []
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

    /// What `sluice status` found, printed as text or JSON.
    struct Report: Encodable {
        struct Environment: Encodable {
            var name: String
            var target: String
            var inSync: Bool?
            var changes: Int
            var detail: String
            var workloads: [String: String] = [:]
        }
        var model: String
        var production: String?
        var productionCommit: String?
        var registry: String
        var environment: Environment?
        /// What each environment before production runs (`environments:`), by name.
        var preProduction: [String: String] = [:]
        /// The controller's conditions for this repository (stored under the same --state).
        var conditions: [String: [Condition]]
    }

    func run() async throws {
        do {
            let context = try DeployContext(global, model: model)
            let repository = context.registry.repository
            let stored = try context.registry.store.conditions(repository: RepositorySource.stateLocation(global.repo))
            var report = Report(model: context.registry.model, registry: context.environments.registry.kind,
                                conditions: stored[RepositorySource.stateLocation(global.repo)]?.mapValues(\.all) ?? [:])
            if let version = try context.environments.registry.production(model: context.registry.model) {
                report.production = version.version
                report.productionCommit = version.commit
                report.environment = try environment(of: version, context: context, repository: repository)
            }
            // The environments before production: what each runs, and where versions stand (the step log).
            let steps = try context.registry.store.steps(model: context.registry.model)
            let head = try CommittedSpec.load(repository: repository, commit: "HEAD")
            for name in Set(steps.map(\.environment)) where name != head?.environments.last?.name {
                if let deployed = try context.registry.store.deployedVersion(model: context.registry.model, environment: name) {
                    report.preProduction[name] = "version \(deployed.version)"
                }
            }
            if global.format == .json { return try Output.json(report) }
            for (name, running) in report.preProduction.sorted(by: { $0.key < $1.key }) {
                let last = steps.last { $0.environment == name }
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

    private func environment(of version: RegisteredVersion, context: DeployContext, repository: GitRepository) throws -> Report.Environment? {
        guard let (deploy, objects) = try context.environments.render(version, repository: repository) else { return nil }
        let status = try context.environments.target(deploy, repository: repository).status(objects)
        return Report.Environment(name: status.name, target: status.target, inSync: status.inSync, changes: status.changes, detail: status.detail,
                                  workloads: status.workloads)
    }

}
