import ArgumentParser
import SluiceCore
#if canImport(Glibc)
import Glibc
#endif

@main
struct Sluice: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sluice",
        abstract: "GitOps CI/CT/CD for machine-learning repositories.",
        version: SluiceVersion.current,
        subcommands: [Init.self, Explain.self, Validate.self, ValidateData.self, Plan.self, Run.self, Logs.self, Runs.self, GateCommand.self, Report.self, Promote.self, Rollback.self, ApproveRun.self, Approve.self, EnvironmentsCommand.self, Pod.self, Render.self, DiffCommand.self, Deploy.self, Status.self, Watch.self, Notifications.self, Notify.self, VerifyModel.self, StoreCommand.self, ReferenceCommand.self]
    )

    /// Sluice's exit codes are 0, 1 and 2: a usage error is "could not do the work" (2), not
    /// ArgumentParser's 64.
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var command = command as? AsyncParsableCommand {
                try await command.run()
            } else {
                try command.run()
            }
        } catch {
            guard exitCode(for: error) == .validationFailure else { exit(withError: error) }
            Output.err(fullMessage(for: error))
            Glibc.exit(2)
        }
    }
}
