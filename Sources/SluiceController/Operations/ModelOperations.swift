import FoundationEssentials
public import SluiceCore
import SluiceGit
import SluiceRegistry
import SluiceStore

/// What the operator's commands on one repository's model share (`promote`, `rollback`,
/// `render`, `deploy`, `diff`, `status`, `approve`, `environments`): the run store, the
/// repository (a remote one mirrored into the state folder), the model, and the registry the
/// repository's `sluice.yaml` at HEAD names.
public struct ModelOperations {
    let store: RunStore
    let repository: GitRepository
    /// The repository as given (a path or a URL).
    let location: String
    let environment: [String: String]
    /// The model: as given, else `gate.model` in `sluice.yaml` at HEAD, else the folder's name.
    public let model: String

    public init(location: String, stateDirectory: String, model: String?, environment: [String: String]) throws {
        store = try RunStores.open(stateDirectory: stateDirectory, environment: environment)
        repository = try RepositorySource.open(location, stateDirectory: stateDirectory, credentials: GitCredentials.fromEnvironment(environment))
        self.location = location
        self.environment = environment
        self.model = try model ?? Promotion.modelName(repository: repository, repositoryKey: RepositorySource.stateLocation(location))
    }

    /// The promotion operation over the registry named by `sluice.yaml` at HEAD (embedded unless
    /// `gate.registry: mlflow`; an empty repository has no spec: embedded).
    var promotion: Promotion {
        get throws {
            let gate = try repository.resolveReference("HEAD").flatMap { try CommittedSpec.load(repository: repository, commit: $0)?.gate }
            return Promotion(store: store, registry: try RunService.registry(for: gate, store: store, environment: environment),
                             environment: environment)
        }
    }

    /// Pushes Sluice's refs (notes, environment branches, the promotion record) back when the
    /// repository is remote. Returns what went wrong (nothing is lost locally: the next push
    /// carries it).
    public func push(_ refs: [String]) -> String? {
        guard RepositorySource.isRemote(location), !refs.isEmpty else { return nil }
        do {
            try GitMirror.push(repository, refs: refs, url: location, credentials: GitCredentials.fromEnvironment(environment))
            return nil
        } catch {
            return "\(refs.joined(separator: ", ")) not pushed to \(location): \(error)"
        }
    }

    /// Puts run `runID`'s candidate in production.
    public func promote(run runID: Int64, actor: String, reason: String) throws -> Promotion.Change {
        try promotion.promote(runID: runID, model: model, actor: actor, reason: reason, repository: repository)
    }

    /// Puts `version` (default: the one before) back in production.
    public func rollback(to version: String?, actor: String, reason: String) throws -> Promotion.Change {
        try promotion.rollback(model: model, to: version, actor: actor, reason: reason, repository: repository)
    }

    /// The promotion log, oldest first.
    public func promotionLog() throws -> [PromotionRecord] {
        try store.promotions(model: model)
    }
}
