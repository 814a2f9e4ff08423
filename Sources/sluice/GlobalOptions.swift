import ArgumentParser
import FoundationEssentials
import SluiceController

enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json
}

/// Options every command takes: the repository, the state folder and the output format.
struct GlobalOptions: ParsableArguments {
    @Option(name: .customLong("repo"), help: """
        Repository: a local path or a URL (default: the current directory). To read a controller's runs, \
        give its --state and the repository's url exactly as its configuration spells it.
        """)
    var repoOption: String?

    /// The repository, `.` when not given.
    var repo: String { repoOption ?? "." }

    /// The runs' repository key when --repo was given (then `last` means that repository's newest run).
    var givenRepositoryKey: String? { repoOption.map(RepositorySource.stateLocation) }

    @Option(help: "State directory (default: $SLUICE_STATE, else ~/.sluice). The run store is in it unless $SLUICE_DATABASE_URL names a PostgreSQL database.")
    var state: String?

    @Option(help: "Output format: text or json.")
    var format: OutputFormat = .text

    /// Absolute: stages run in other folders, so a relative `--state ../state` is resolved now.
    var stateDirectory: String {
        let home = ProcessInfo.processInfo.environment["HOME"] ?? "."
        let chosen = state ?? ProcessInfo.processInfo.environment["SLUICE_STATE"].flatMap { $0.isEmpty ? nil : $0 } ?? home + "/.sluice"
        return RepositorySource.stateLocation(chosen)
    }
}
