import ArgumentParser
import SluiceController
import SluiceCore

struct Explain: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explain",
        abstract: "Describe a sluice.yaml key: its type, default, constraints and meaning.",
        discussion: """
        Reads the JSON Schema compiled into this binary, as `kubectl explain` reads the API's. \
        Lists are transparent and any name fills a named entry: `sluice explain \
        environments.strategy.canary.steps`, `sluice explain stages.train.needs`. Without a key, \
        the top-level keys. Exit 0, or 2 for a key sluice.yaml does not have.
        """
    )

    @Argument(help: "A dotted key path, e.g. gate.policy or stages.train.outputs.")
    var key: String?

    @Flag(help: "Also print every key below it.")
    var recursive = false

    func run() async throws {
        let schema: SchemaReference
        do { schema = try ReferenceDocs.schema() } catch { throw Output.fail(error) }
        guard let key else {
            Output.out("sluice.yaml keys (sluice explain <key> for one):")
            for entry in schema.topLevel { Output.out("  " + entry.path + String(repeating: " ", count: max(1, 15 - entry.path.count)) + entry.type) }
            return
        }
        switch schema.entry(for: key) {
        case .failure(let error):
            throw Output.fail(error)
        case .success(let entry):
            Output.out(String(ReferencePages.explain(entry).dropLast()))
            guard recursive else { return }
            for below in schema.entries where below.path.hasPrefix(entry.path + ".") {
                Output.out("\n" + ReferencePages.explain(below).dropLast())
            }
        }
    }
}
