import ArgumentParser
import FoundationEssentials

enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json
}

/// Options every command takes (see DESIGN.md, "The command line").
struct GlobalOptions: ParsableArguments {
    @Option(help: "Repository: a local path or a URL (default: the current directory).")
    var repo: String = "."

    @Option(help: "State directory (default: $SLUICE_STATE, else ~/.sluice).")
    var state: String?

    @Option(help: "Output format: text or json.")
    var format: OutputFormat = .text

    var stateDirectory: String {
        if let state { return state }
        if let env = ProcessInfo.processInfo.environment["SLUICE_STATE"], !env.isEmpty { return env }
        let home = ProcessInfo.processInfo.environment["HOME"] ?? "."
        return home + "/.sluice"
    }
}
