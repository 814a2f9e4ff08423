import FoundationEssentials
import SluiceCore
public import SluiceGit
public import SluiceRegistry
public import SluiceStore

/// The one operation that moves a model's production version. The gate's promotion, the last
/// step of an environment chain, the rollback after a failed rollout and the operator's
/// `promote` / `rollback` (CLI, web UI, API) all call `move`, which works in this order:
///
/// 1. compare-and-swap the promotion log (the decision: a lost race changes nothing else);
/// 2. move the registry's production marker (MLflow's alias) to what the log now names; a move
///    that fails stays due in the run store (`RegistryMoveRecord`) and the controller retries it
///    on every pass until registry and log agree (`syncRegistry`);
/// 3. bring the record in git (`refs/sluice/promotions`) up to the log, in log order;
/// 4. a note on the version's commit, the metric.
///
/// Steps 2 and 3 follow the log rather than the caller's own version, so two promotions that
/// interleave anywhere end with registry, log and git record naming the same version.
public struct Promotion: Sendable {
    public let store: RunStore
    public let registry: any ModelRegistry
    public let environment: [String: String]
    /// Seconds since 1970 for the log entry.
    public var clock: @Sendable () -> Double = { WallClock.now() }
    /// Test hook: runs after the log accepted an entry and before anything outside the log moves.
    public var afterSwap: (@Sendable (PromotionRecord) -> Void)?

    public init(store: RunStore, registry: any ModelRegistry, environment: [String: String] = [:]) {
        self.store = store
        self.registry = registry
        self.environment = environment
    }

    /// What production is now: the log's version (the compare-and-swap's expected value) and the
    /// registry's record of it.
    public struct Production: Sendable {
        /// The version the promotion log names; nil before the first promotion.
        public var logVersion: String?
        /// That version as the registry knows it (before any promotion: the registry's own marker,
        /// e.g. an MLflow alias set outside Sluice).
        public var version: RegisteredVersion?
    }

    /// Production of `model`, as the log decides it. Throws when the log names a version the
    /// registry does not know (fail closed: nothing can be compared with it).
    public func production(model: String) throws -> Production {
        guard let logged = try store.productionVersion(model: model) else {
            return Production(logVersion: nil, version: try registry.production(model: model))
        }
        guard let version = try registry.version(model: model, version: logged) else {
            throw LoadError(message: "the promotion log puts version \(logged) of \(model) in production, but the \(registry.kind) registry has no such version",
                            hint: "restore the version in the registry, or roll back with `sluice rollback --to <version>`")
        }
        return Production(logVersion: logged, version: version)
    }

    /// What `move` did.
    public enum Result: Sendable {
        /// The log took the entry; `problems` says what outside the log is not in step yet (the
        /// controller finishes the registry move; the next promotion or pass writes the git record).
        case moved(PromotionRecord, problems: [String])
        /// Production was no longer `expected`: nothing was changed anywhere.
        case lost(current: String?)
        /// This replica no longer leads (why): nothing was changed anywhere.
        case fenced(String)
    }

    /// Moves production of `version.model` to `version` if the log still names `expected`.
    /// - Parameters:
    ///   - note: the note for the version's commit (nil: none; the gate writes its own).
    ///   - events: announced with the log's entry, in its transaction (a crash right after the
    ///     swap loses no notification; a lost race announces nothing).
    public func move(to version: RegisteredVersion, action: PromotionRecord.Action, expected: String?, actor: String, reason: String,
                     runID: Int64?, note: String?, repository: GitRepository, events: [NotificationEvent] = []) throws -> Result {
        let model = version.model
        let entry = PromotionRecord(model: model, version: version.version, action: action, commit: version.commit, runId: runID ?? version.runID,
                                    previousVersion: expected, actor: actor, reason: reason, createdAt: clock())
        switch try store.appendPromotion(entry, expectedVersion: expected, events: events) {
        case .appended: break
        case .productionMoved: return .lost(current: try store.productionVersion(model: model))
        case .fenced(let refusal): return .fenced(refusal)
        }
        afterSwap?(entry)
        var problems: [String] = []
        if let problem = try syncRegistry(model: model) { problems.append(problem) }
        do {
            try PromotionHistory.sync(model: model, store: store, registry: registry, repository: repository)
        } catch {
            problems.append("the promotion was not recorded in \(PromotionHistory.ref) yet (the next promotion records it): \(error)")
        }
        if let note {
            do { try repository.appendNote(note, to: version.commit) } catch {
                problems.append("the note was not written to commit \(CommitID(version.commit).short): \(error)")
            }
        }
        ControllerMetrics.promotion(model: model, action: action.rawValue)
        return .moved(entry, problems: problems)
    }

    /// Moves the registry's marker to the log's production version until the two agree; each
    /// round that does not finish means the log moved on meanwhile. Returns why the registry is
    /// not in step yet (the move stays due, and the controller retries it).
    @discardableResult
    public func syncRegistry(model: String) throws -> String? {
        for _ in 0..<8 {
            guard let target = try store.productionVersion(model: model) else { return nil }
            do {
                try registry.setProduction(model: model, version: target)
            } catch {
                try store.failRegistryMove(model: model, error: "\(error)", at: clock())
                return "the \(registry.kind) registry was not moved to version \(target) of \(model) yet (the controller retries until it agrees with the promotion log): \(error)"
            }
            if try store.finishRegistryMove(model: model, version: target) { return nil }
        }
        return "the promotion log of \(model) kept moving while the \(registry.kind) registry followed it; the controller finishes the move"
    }
}
