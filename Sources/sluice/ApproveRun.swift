import ArgumentParser
import FoundationEssentials
import SluiceController
import SluiceCore
import SluiceGit
import SluiceStore

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
        do {
            let repository = try RepositorySource.open(global.repo, stateDirectory: global.stateDirectory,
                                                       credentials: GitCredentials.fromEnvironment(ProcessInfo.processInfo.environment))
            let candidates = mergeRequest.hasPrefix("refs/") ? [mergeRequest] : ["refs/pull/\(mergeRequest)/head", "refs/merge-requests/\(mergeRequest)/head"]
            guard let ref = candidates.first(where: { MergeRequestRef.number(of: $0) != nil && repository.resolveReference($0) != nil }),
                  let head = repository.resolveReference(ref) else {
                throw ValidationError("no merge request \(mergeRequest) in \(global.repo) (looked for \(candidates.joined(separator: ", ")); has the controller fetched it?)")
            }
            if let commit, commit.count < 7 || !head.hasPrefix(commit.lowercased()) {
                Output.err("sluice: \(ref) is now at \(head.prefix(12)), not \(commit): review that commit, then approve it")
                throw ExitCode(1)
            }
            let who = (actor ?? ProcessInfo.processInfo.environment["USER"] ?? "unknown") + " (cli)"
            let store = try RunStore(stateDirectory: global.stateDirectory)
            try store.approve(repository: RepositorySource.stateLocation(global.repo), ref: ref, commit: head, by: who, at: PipelineRunner.now())
            if global.format == .json {
                try Output.json(["repository": RepositorySource.stateLocation(global.repo), "ref": ref, "commit": head, "approved_by": who])
            } else {
                Output.out("approved \(ref) at \(head.prefix(12)) to run (by \(who)); the controller runs it at its next reconcile")
            }
        } catch let e as ExitCode {
            throw e
        } catch let e as ValidationError {
            Output.err("sluice: \(e.message)")
            throw ExitCode(2)
        } catch {
            throw Output.fail(error)
        }
    }
}
