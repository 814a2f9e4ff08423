public import SluiceCore
import SluiceStore

/// What the HTTP side needs of one repository the controller watches: its settings and health
/// for the pages, a wake-up for webhooks, and the operator's actions. The controller's
/// `any WatchedRepository` conforms; the server never sees how reconciling works, so it depends on
/// this port and the controller depends on the server, not the other way round.
public protocol WatchedRepository: Sendable {
    var repository: ControllerConfig.Repository { get }
    var health: RepositoryHealth { get async }
    /// A webhook arrived: reconcile now instead of at the next interval.
    func wake() async
    /// Queues a new run of a finished, unsuccessful run's commit; returns the new run.
    func rerun(_ runID: Int64, actor: String) async throws(ActionError) -> RunRecord
    /// Puts the model a passed run registered in production.
    func promote(_ runID: Int64, actor: String, reason: String) async throws(ActionError) -> PromotionSummary
    /// Moves production of `model` back (to `version`, else the one before).
    func rollback(model: String, to version: String?, actor: String, reason: String) async throws(ActionError) -> PromotionSummary
    /// Lets a held merge request's head run; returns the approved commit.
    func approve(ref: String, commit: String?, actor: String) async throws(ActionError) -> String
    /// Approves `version` of `model` into an environment of its chain; returns where it stands.
    func approve(model: String, version: String, into environment: String, actor: String, reason: String) async throws(ActionError) -> String
    /// This repository has put `model` in production.
    func produces(model: String) async -> Bool
    /// This repository's environment chain carries `model`.
    func chains(model: String) async throws -> Bool
}

/// What a promotion or rollback did, as the API answers it.
public struct PromotionSummary: Sendable {
    public var entry: PromotionRecord
    /// The environment the version was deployed to, and whether it became healthy.
    public var deployedTo: String?
    public var healthy: Bool?
    /// Why the environment was not updated.
    public var deployProblem: String?
    /// What outside the promotion log is not in step yet.
    public var problems: [String]

    public init(entry: PromotionRecord, deployedTo: String?, healthy: Bool?, deployProblem: String?, problems: [String]) {
        self.entry = entry
        self.deployedTo = deployedTo
        self.healthy = healthy
        self.deployProblem = deployProblem
        self.problems = problems
    }
}
