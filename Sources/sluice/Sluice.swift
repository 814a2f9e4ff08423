import ArgumentParser
import SluiceCore

@main
struct Sluice: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sluice",
        abstract: "GitOps CI/CT/CD for machine-learning repositories.",
        version: SluiceVersion.current,
        subcommands: [Validate.self, ValidateData.self, Plan.self, Run.self, Logs.self, Runs.self, GateCommand.self, Report.self, Promote.self, Rollback.self, Render.self, DiffCommand.self, Deploy.self, Status.self, Watch.self]
    )
}
