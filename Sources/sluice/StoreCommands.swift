import ArgumentParser
import FoundationEssentials
import SluiceController
#if canImport(Glibc)
import Glibc
#endif

struct StoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "store", abstract: "Move the run store between state folders and databases: export it as JSON lines, import it into an empty folder or database.",
        subcommands: [StoreExport.self, StoreImport.self])
}

struct StoreExport: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write the run store to standard output as JSON lines: a header, then every row of every table.",
        discussion: "One consistent moment of the store (the state folder's, or the PostgreSQL database SLUICE_DATABASE_URL names), even while a controller writes to it; the same lines from either. The artifact blobs (cas/, or the bucket) and the stage logs (logs/) are files and not in it: sluice store import --from copies them.")

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        do {
            try StoreTransfer.export(stateDirectory: global.stateDirectory, environment: ProcessInfo.processInfo.environment) { line in
                Output.out(line)
            }
        } catch {
            throw Output.fail(error)
        }
    }
}

struct StoreImport: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Build the run store of an empty state folder, or of the empty PostgreSQL database SLUICE_DATABASE_URL names, from an export read on standard input.",
        discussion: "An export of either database imports into either. The export's schema is built first, every row goes in in one transaction, then this Sluice's newer migrations run; an import that fails leaves nothing behind. With --from (the exported state folder), the artifacts the store names are copied too, each checked against its digest (and into the bucket when SLUICE_ARTIFACTS_URL names one), and the stage logs.")

    @OptionGroup var global: GlobalOptions

    @Option(help: "The state folder the export came from: copy its artifacts and stage logs as well.")
    var from: String?

    func run() async throws {
        let imported: StoreTransfer.Imported
        do {
            imported = try StoreTransfer.importStore(stateDirectory: global.stateDirectory, source: "standard input", from: from,
                                                     environment: ProcessInfo.processInfo.environment) { readLine(strippingNewline: true) }
        } catch {
            throw Output.fail(error)
        }
        let rows = imported.rows.values.reduce(0, +)
        var said = "imported \(rows) rows into \(imported.into) (\(imported.rows["runs"] ?? 0) runs)"
        if from != nil { said += "; copied \(imported.outputs) outputs and \(imported.logFolders) runs' logs" }
        Output.out(said)
    }
}
