import ArgumentParser
import FoundationEssentials
import SluiceController
import SluiceCore

/// `sluice approve-run`: lets a merge request from a fork run its head commit once (the
/// repository's `merge-requests: { forks: approval }`). Recorded in the state folder; the
/// controller sees it at its next reconcile (the API's approve also wakes it at once).
struct ApproveRun: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "approve-run",
        abstract: "Approve a fork's merge request to run its current head commit (a later push needs approval again).",
        discussion: "Review the commit first: it runs sandboxed, without secrets, but it runs."
    )

    @OptionGroup var global: GlobalOptions

    @Option(help: "The merge request: its number, or its head ref (refs/pull/7/head, refs/merge-requests/7/head).")
    var mergeRequest: String

    @Option(help: "The commit you reviewed (a prefix of 7 or more); refused when the merge request's head is another.")
    var commit: String?

    @Option(help: "Who approves (default: $USER).")
    var actor: String?

    func run() throws {
        let who = (actor ?? OperatorName.current(environment: ProcessInfo.processInfo.environment)) + " (cli)"
        do {
            let approved = try MergeRequestApproval.approve(location: global.repo, mergeRequest: mergeRequest, reviewed: commit, actor: who,
                                                            stateDirectory: global.stateDirectory, environment: ProcessInfo.processInfo.environment)
            if global.format == .json {
                try Output.json(["repository": approved.repository, "ref": approved.ref, "commit": approved.commit, "approved_by": who])
            } else {
                Output.out("approved \(approved.ref) at \(approved.commit.prefix(12)) to run (by \(who)); the controller runs it at its next reconcile")
            }
        } catch let refusal as MergeRequestApproval.Refusal {
            switch refusal {
            case .noMergeRequest:
                Output.err("sluice: \(refusal)")
                throw ExitCode(2)
            case .headMoved:
                Output.err("sluice: \(refusal)")
                throw ExitCode(1)
            }
        } catch {
            throw Output.fail(error)
        }
    }
}
