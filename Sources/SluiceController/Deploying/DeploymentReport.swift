public import SluiceStore

extension DeploymentReport {
    /// The report of `result`, the deploy of `version` of `model` to `environment`.
    public init(model: String, version: String, environment: String, result: DeployService.Result,
                startedAt: Double, finishedAt: Double, committedAt: Double) {
        self.init(model: model, version: version, environment: environment, target: result.branch, commit: result.commit,
                  changes: result.changes, pruned: result.pruned, succeeded: result.healthy != false, failure: result.failure,
                  startedAt: startedAt, finishedAt: finishedAt, committedAt: committedAt)
    }
}
