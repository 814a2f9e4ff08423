import FoundationEssentials
import SluiceCore
import SluiceStore

/// What the controller gives a merge request's pipeline for its preview.
public struct PreviewContext: Sendable {
    public var deployer: PreviewDeployer
    /// The repository's name in the controller's configuration.
    public var repositoryName: String
    /// Why this head gets no preview although it ran (a fork's merge request not approved); nil: it may.
    public var withheld: String?

    public init(deployer: PreviewDeployer, repositoryName: String, withheld: String? = nil) {
        self.deployer = deployer
        self.repositoryName = repositoryName
        self.withheld = withheld
    }
}

extension CommitPipeline {
    /// Deploys the candidate of a merge-request run as its preview, or says why not (and
    /// deletes the merge request's earlier preview, which no longer shows its head). Returns
    /// the forge's refusals and what went wrong.
    func preview(_ report: GateReport, run: RunRecord, work: PipelineRunner.Work, context: PreviewContext) async -> ([NotificationProblem], [String]) {
        guard let settings = work.spec.preview, let ref = work.ref, let number = MergeRequestRef.number(of: ref) else { return ([], []) }
        var problems: [NotificationProblem] = []
        var warnings: [String] = []
        let deployer = context.deployer
        let say = progress
        func tell(_ body: String, on mergeRequest: Int = number) {
            guard let notifier else { return }
            problems += notifier.on(mergeRequest: mergeRequest).preview(body)
        }
        let skip = context.withheld ?? (settings.on == .passed && !report.passed
            ? "the gate did not pass this candidate (preview.on: passed)" : nil)
        if let skip {
            do {
                if let old = try deployer.store.preview(repository: work.repositoryKey, number: number) {
                    let removal = try deployer.delete(old, repository: repository, say: say)
                    try publish(deleting: removal.deletedRefs)
                    tell(PreviewComment.deleted(old, why: "the new head gets none: \(skip)", removed: removal.said))
                } else {
                    tell(PreviewComment.failed("No preview: \(skip)."))
                }
            } catch {
                warnings.append("the preview of merge request \(number) could not be deleted: \(error) (tried again by the controller)")
            }
            return (problems, warnings)
        }
        let request = PreviewDeployer.Request(repositoryName: context.repositoryName, repositoryKey: work.repositoryKey, number: number, ref: ref,
                                              run: run, spec: work.spec, preview: settings, model: report.model, datasetVersions: work.datasetVersions)
        do {
            let outcome = try await deployer.deploy(request, repository: repository, say: say)
            for (old, removal) in outcome.evicted {
                tell(PreviewComment.deleted(old, why: "more than \(settings.max) previews ran (preview.max): the oldest goes", removed: removal.said), on: old.number)
            }
            let branch = outcome.record.target == DeploySpec.Target.branch.rawValue ? ["refs/heads/" + outcome.record.place] : []
            try publish(branch, deleting: outcome.deletedRefs)
            tell(PreviewComment.ready(outcome, model: report.model, run: "run \(run.id!)"))
        } catch {
            warnings.append("the preview of merge request \(number) was not deployed: \(error)")
            do {
                if var record = try deployer.store.preview(repository: work.repositoryKey, number: number), record.state == .deploying {
                    record.state = .failed
                    record.detail = "\(error)"
                    try deployer.store.savePreview(record)
                }
            } catch {
                warnings.append("the preview's record was not updated: \(error)")
            }
            tell(PreviewComment.failed("The preview was not deployed: \(error)"))
        }
        return (problems, warnings)
    }

    private func publish(_ refs: [String] = [], deleting: [String] = []) throws {
        try publisher?.push(refs, deleting: deleting, from: repository)
    }
}
