import ArgumentParser
import FoundationEssentials
import SluiceController

struct Init: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Write a first sluice.yaml, promotion policy and data schemas for a repository.",
        discussion: """
        Looks at the repository (ruff and pytest set-ups, train.py and evaluate.py and the metric \
        names they write, CSV and JSON-lines data, DVC pointers and their data in DVC's cache or \
        a folder remote, a manifests/ or k8s/ folder) and writes sluice.yaml, \
        policies/promotion.yaml and schemas/<dataset>.yaml inferred from each data file. Exit 0 \
        written, 2 when a file exists (use --force) or the repository cannot be read.
        """
    )

    @Argument(help: "The repository's folder.")
    var path: String = "."

    @Option(help: "The model's name (default: the folder's name).")
    var model: String?

    @Flag(help: "Replace files that exist.")
    var force = false

    func run() async throws {
        let result: RepositoryInit.Result
        do {
            result = try RepositoryInit.run(root: path, model: model, force: force)
        } catch {
            throw Output.fail(error)
        }
        for file in result.written { Output.out("wrote \(file.path): \(file.summary)") }
        for note in result.notes { Output.out("note: \(note)") }
        Output.out("next: check each stage's command in sluice.yaml, commit the files (plan and run read commits, validate reads the working tree), then `sluice validate` and `sluice run`")
    }
}
