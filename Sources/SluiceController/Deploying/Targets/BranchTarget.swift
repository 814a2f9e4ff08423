import SluiceCore
import SluiceGit

/// `target: branch`: the manifests are committed to `sluice/env/<environment>` in the watched
/// repository (pushed back when it is remote), for Argo CD or Flux to sync; one commit per change.
struct BranchTarget: DeployTarget {
    let deploy: DeploySpec
    let repository: GitRepository

    var branch: String { DeployService.branch(for: deploy) }
    var name: String { branch }

    func diff(_ objects: [ManifestObject]) throws -> [String] {
        DeployService().diff(try ManifestRenderer.files(objects), deploy: deploy, repository: repository)
    }

    func write(_ objects: [ManifestObject], facts: DeployFacts, action: String, wait: Bool, progress: (String) -> Void) throws -> DeployService.Result {
        try DeployService().deployToBranch(try ManifestRenderer.files(objects), deploy: deploy, repository: repository,
                                           message: DeployService.message(facts, action: action, runID: facts.run))
    }

    func status(_ objects: [ManifestObject]) throws -> EnvironmentStatus {
        let files = try ManifestRenderer.files(objects)
        guard let head = repository.resolveReference("refs/heads/" + branch) else {
            return EnvironmentStatus(name: deploy.environment, target: "branch \(branch)", inSync: false, changes: files.count,
                                     detail: "\(deploy.environment): branch \(branch) does not exist yet (run `sluice deploy`)")
        }
        let commit = try repository.commit(head)
        let changes = DeployService().diff(files, deploy: deploy, repository: repository)
        return EnvironmentStatus(name: deploy.environment, target: "branch \(branch)", inSync: changes.isEmpty, changes: changes.count,
                                 detail: "\(deploy.environment): branch \(branch) at \(CommitID(head).short) \"\(commit.summary)\", "
                                    + "\(repository.files(onBranch: branch).count) objects, "
                                    + (changes.isEmpty ? "in sync with production" : "OUT OF SYNC (\(changes.count) changes; `sluice diff`)"))
    }

    func removeAll(progress: (String) -> Void) throws -> (said: String, deletedRefs: [String]) {
        try repository.deleteReference("refs/heads/" + branch)
        return ("deleted branch \(branch)", ["refs/heads/" + branch])
    }
}
