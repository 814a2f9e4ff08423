import ArgumentParser
import FoundationEssentials
import SluiceController

/// The commands Sluice's own containers run inside a stage's pod (see
/// docs/content/how-to/kubernetes-stages.md); not for people.
struct Pod: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pod",
        abstract: "Inside a stage's pod: fetch the workspace, or send the outputs back.",
        shouldDisplay: false,
        subcommands: [Workspace.self, Collect.self]
    )

    struct Workspace: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "workspace", abstract: "Fetch the stage's workspace into the current folder (init container).")
        func run() throws {
            do { try PodSide.here().fetchWorkspace() } catch { throw Output.fail(error) }
        }
    }

    struct Collect: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "collect", abstract: "Wait for the stage to end, then send its outputs back.")
        func run() throws {
            do { try PodSide.here().collectOutputs() } catch { throw Output.fail(error) }
        }
    }
}

extension PodSide {
    static func here() throws -> PodSide {
        try PodSide(environment: ProcessInfo.processInfo.environment, workspace: FileManager.default.currentDirectoryPath) {
            Output.immediate("sluice: \($0)")
        }
    }
}
