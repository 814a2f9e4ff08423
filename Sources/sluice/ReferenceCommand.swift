import ArgumentParser
import SluiceController

/// Writes the generated reference pages of the documentation site (docs/content/reference), or
/// with --check says which committed pages differ from what this build generates (a test runs
/// it, so a key, flag, metric or condition added without its documentation fails CI).
struct ReferenceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reference",
        abstract: "Generate the reference pages of the documentation site from the code.",
        shouldDisplay: false
    )

    @Argument(help: "The folder of the reference pages.")
    var folder: String = "docs/content/reference"

    @Flag(help: "Only check that the pages in the folder are up to date (exit 1 when not).")
    var check = false

    func run() async throws {
        let pages: [String: String]
        do { pages = try ReferenceDocs.pages(commands: Self.commandsPage()) } catch { throw Output.fail(error) }
        if check {
            let stale = ReferenceDocs.stale(pages, in: folder)
            guard stale.isEmpty else {
                Output.err("out of date in \(folder): \(stale.joined(separator: ", ")); run `swift run sluice reference \(folder)` and commit the pages")
                throw ExitCode(1)
            }
            Output.out("\(Output.count(pages.count, "page")) in \(folder) are up to date")
            return
        }
        do { try ReferenceDocs.write(pages, to: folder) } catch { throw Output.fail(error) }
        Output.out("wrote \(Output.count(pages.count, "page")) to \(folder)")
    }

    /// Every command's help, as `sluice help <command>` prints it, at a fixed width.
    static func commandsPage() -> String {
        var out = """
        # Command reference

        Generated from the argument parser by `sluice reference`; `sluice help <command>` prints the
        same. Exit codes: 0 success, 1 a failure (a stage failed, the gate rejected, a deploy
        failed), 2 the work could not be done (bad input, an unreadable repository or state folder).
        Shell completions: `sluice --generate-completion-script bash` (or `zsh`, `fish`).


        """
        func add(_ command: any ParsableCommand.Type, path: [String]) {
            let name = command.configuration.commandName ?? String(describing: command).lowercased()
            guard command.configuration.shouldDisplay else { return }
            let full = path + [name]
            if full.count > 1 {
                out += "## `\(full.joined(separator: " "))`\n\n```text\n"
                out += Sluice.helpMessage(for: command, columns: 100).trimmingSuffixWhitespace() + "\n```\n\n"
            }
            for sub in command.configuration.subcommands { add(sub, path: full) }
        }
        add(Sluice.self, path: [])
        return out
    }
}

private extension String {
    func trimmingSuffixWhitespace() -> String {
        var s = Substring(self)
        while let last = s.last, last.isWhitespace { s = s.dropLast() }
        return String(s)
    }
}
