import ArgumentParser

struct Plan: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show which stages a commit must run, and why.")
    @OptionGroup var global: GlobalOptions
    func run() async throws { throw Output.fail(LoadErrorPlaceholder()) }
}
struct LoadErrorPlaceholder: Error, CustomStringConvertible { var description: String { "plan: not yet available" } }
