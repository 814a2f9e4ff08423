import FoundationEssentials
public import SluiceCore
public import SluiceGit
public import SluiceRegistry
public import SluiceStore

/// Moves a model version down its `environments:` (the ones of its own commit), as far as it
/// may go now: into the next environment once the previous one verified it and its soak time
/// has passed (and, for `promote: manual`, once someone approved it), then the checks there.
/// The last environment is production: entering it is a promotion (registry, promotion log,
/// record in git). A failed deploy or check stops the chain there and the later environments
/// keep their version; a production check that fails rolls production back.
///
/// Every step is appended to the run store's step log with who or what took it and why, and
/// the state is read back from that log each time: `advance` is safe to call again at any
/// time (after a crash, from the controller's poll, after an approval).
public struct EnvironmentChain: Sendable {
    public let store: RunStore
    public let registry: any ModelRegistry
    public let environment: [String: String]
    public let stateDirectory: String
    /// Runs command checks as Kubernetes Jobs, given the version (see `PipelineRunner.verifyPod`); nil: here.
    public var pod: (@Sendable (RegisteredVersion, PipelineSpec) -> (@Sendable (StageSpec, String) async -> (passed: Bool, detail: String))?)?
    /// Records each step's notification event with it (nil: none; the controller sets it).
    public var events: EventSource?

    public init(store: RunStore, registry: any ModelRegistry, environment: [String: String], stateDirectory: String) {
        self.store = store
        self.registry = registry
        self.environment = environment
        self.stateDirectory = stateDirectory
    }

    public struct Progress: Sendable {
        /// Where the version stands, in words ("soaking in staging until ...", "in production").
        public var position = ""
        public var reachedProduction = false
        /// Why the chain stopped, when it failed.
        public var failure: String?
        /// When the next step is due (a soak ending), if the chain waits on time.
        public var dueAt: Double?
        /// Refs written (environment branches, the promotion record), to push back.
        public var refs: [String] = []
    }

    /// - Parameters:
    ///   - spec: the `sluice.yaml` of the version's commit.
    ///   - actor: who moves it (`sluice run 12`, `sluice watch`).
    public func advance(_ version: RegisteredVersion, spec: PipelineSpec, repository: GitRepository, actor: String,
                        now: @Sendable () -> Double, say: @escaping @Sendable (String) -> Void) async throws -> Progress {
        let model = version.model
        let environments = spec.environments
        var progress = Progress()
        var steps = try store.steps(model: model, version: version.version)
        func last(_ env: String, _ state: EnvironmentStepRecord.State) -> EnvironmentStepRecord? {
            steps.last { $0.environment == env && $0.state == state }
        }
        func record(_ env: String, _ state: EnvironmentStepRecord.State, _ detail: String, reason: String? = nil, canary: Bool = false) throws {
            let step = EnvironmentStepRecord(model: model, version: version.version, environment: env, state: state, detail: detail,
                                             actor: actor, reason: reason, runId: version.runID, createdAt: now())
            let event = events?.step(step, isLast: environments.last?.name == env, canary: canary)
            try store.appendStep(step, events: event.map { [$0] } ?? [])
            steps.append(step)
            ControllerMetrics.environmentStep(environment: env, state: state.rawValue)
            say("\(model) version \(version.version): \(env): \(state.rawValue)\(detail.isEmpty ? "" : " (\(detail))")")
        }
        if let stop = steps.last(where: { $0.state == .failed || $0.state == .superseded }) {
            progress.position = "\(stop.state.rawValue) in \(stop.environment): \(stop.detail)"
            progress.failure = stop.state == .failed ? progress.position : nil
            return progress
        }
        let commit = try repository.commit(version.commit)
        for (index, env) in environments.enumerated() {
            let isProduction = index == environments.count - 1
            if last(env.name, .entered) == nil {
                if index > 0 {
                    let previous = environments[index - 1]
                    guard let verified = last(previous.name, .verified) else {
                        progress.position = "not verified in \(previous.name)"
                        return progress
                    }
                    let until = verified.createdAt + Double(previous.soakSeconds)
                    if now() < until {
                        progress.position = "soaking in \(previous.name) until \(Self.time(until)) (soak \(DurationText.format(seconds: previous.soakSeconds)))"
                        progress.dueAt = until
                        return progress
                    }
                }
                if env.promote == .manual, last(env.name, .approved) == nil {
                    if last(env.name, .awaitingApproval) == nil {
                        // What the approver needs: how the version fared where it was.
                        var detail = "promote: manual"
                        if index > 0, let verified = last(environments[index - 1].name, .verified) {
                            let previous = environments[index - 1]
                            detail += "; verified in \(previous.name): \(verified.detail)"
                            if previous.soakSeconds > 0 { detail += ", then soaked \(DurationText.format(seconds: previous.soakSeconds))" }
                        }
                        try record(env.name, .awaitingApproval, detail)
                    }
                    progress.position = "waiting for approval to enter \(env.name): sluice approve \(model) \(version.version) --to \(env.name) --reason \"...\""
                    return progress
                }
                var rollout: CanaryRollout?
                var analysed: [EnvironmentChecks.Result] = []
                // The first version an environment runs has nothing to be compared with: it goes in at once.
                if let canary = env.canary, try store.deployedVersion(model: model, environment: env.name) != nil {
                    let canaryRollout = CanaryRollout(environments: Environments(registry: registry, store: store, environment: environment),
                                                      version: version, environment: env, repository: repository)
                    if let waiting = try await stepCanary(canary, rollout: canaryRollout, env: env, version: version, commit: commit,
                                                          steps: steps, baselines: try baselines(model: model, in: env.name, spec: spec), now: now,
                                                          analysed: &analysed, record: { try record($0, $1, $2, reason: $3, canary: true) }, say: say) {
                        progress.position = waiting.position
                        progress.dueAt = waiting.dueAt
                        progress.failure = waiting.failure
                        return progress
                    }
                    rollout = canaryRollout
                }
                let why = index == 0 ? "the gate passed" : "verified in \(environments[index - 1].name)"
                if isProduction, try store.productionVersion(model: model) == version.version {
                    // Promoted by an earlier pass that stopped before recording it (a crash).
                    progress.position = "in production (\(env.name))"
                } else if isProduction {
                    let change: Promotion.Change
                    do {
                        change = try Promotion(store: store, registry: registry, environment: environment)
                            .promote(version, actor: actor, reason: why + (last(env.name, .approved).map { "; approved by \($0.actor): \($0.reason ?? "")" } ?? ""),
                                     repository: repository)
                    } catch {
                        try record(env.name, .failed, "could not be promoted: \(error)")
                        progress.failure = "\(error)"
                        progress.position = "failed to enter \(env.name): \(error)"
                        return progress
                    }
                    progress.refs += change.refs
                    if let problem = change.deployProblem {
                        try record(env.name, .failed, "deploy failed: \(problem)")
                        progress.refs += try rollBack(model: model, reason: "version \(version.version) failed to deploy to \(env.name): \(problem)",
                                                      actor: actor, repository: repository, say: say)
                        progress.failure = problem
                        progress.position = "failed in \(env.name): \(problem)"
                        return progress
                    }
                } else {
                    let result: DeployService.Result?
                    do {
                        result = try Environments(registry: registry, store: store, environment: environment)
                            .deploy(version, repository: repository, action: "Deploy", dryRun: false, environment: env.name, progress: say)
                    } catch {
                        try record(env.name, .failed, "deploy failed: \(error)")
                        progress.failure = "\(error)"
                        progress.position = "failed in \(env.name): \(error)"
                        return progress
                    }
                    if let result, result.commit != nil { progress.refs.append("refs/heads/" + result.branch) }
                    if result?.healthy == false {
                        let problem = "the rollout did not become healthy: \(result?.failure ?? "")"
                        try record(env.name, .failed, problem)
                        progress.failure = problem
                        progress.position = "failed in \(env.name): \(problem)"
                        return progress
                    }
                }
                if let rollout {
                    // The stable Deployments run the version now: the canary's work is done.
                    do { try rollout.remove() } catch { say("\(env.name): the canary Deployments were not removed: \(error)") }
                    ControllerMetrics.canary(environment: env.name, result: "promoted")
                }
                let through = analysed.isEmpty ? "" : " after " + analysed.map(\.said).joined(separator: ", ")
                try record(env.name, .entered, why + (rollout == nil ? "" : " (canary reached 100 %\(through))"))
                try supersede(model: model, keeping: version.version, in: env.name, say: say)
            }
            if last(env.name, .verified) == nil {
                var checks = EnvironmentChecks(environment: environment, stateDirectory: stateDirectory, store: store)
                checks.pod = pod?(version, spec)
                let results = await checks.run(env.verify, model: model, version: version.version, commit: commit, deploy: env.deploy,
                                               modelDigest: version.artifactDigest, runID: version.runID,
                                               baselines: try baselines(model: model, in: env.name, spec: spec), say: say)
                if let bad = results.first(where: { $0.verdict != .passed }) {
                    let detail = "check \(bad.check) \(bad.verdict.rawValue): \(bad.detail)"
                    try record(env.name, .failed, detail)
                    if isProduction {
                        progress.refs += try rollBack(model: model, reason: "version \(version.version) failed its checks in \(env.name): \(detail)",
                                                      actor: actor, repository: repository, say: say)
                    }
                    progress.failure = detail
                    progress.position = "failed in \(env.name): \(detail)"
                    return progress
                }
                try record(env.name, .verified, results.isEmpty ? "no checks" : results.map(\.said).joined(separator: ", "))
            }
            if isProduction {
                progress.reachedProduction = true
                progress.position = "in production (\(env.name))"
            } else {
                progress.position = "verified in \(env.name)"
            }
        }
        return progress
    }

    /// What a comparison in `environment` may be measured against: the version the environment
    /// runs (beside a canary, the stable one) and production's, which runs in the last environment.
    private func baselines(model: String, in environment: String, spec: PipelineSpec) throws -> Baselines {
        var baselines = Baselines()
        if let stable = try store.deployedVersion(model: model, environment: environment) {
            baselines.stable = .init(version: stable.version, environment: environment)
        }
        baselines.production = try Baselines.production(model: model, spec: spec, store: store)
        return baselines
    }

    struct Waiting {
        var position: String
        var dueAt: Double?
        var failure: String?
    }

    /// Moves a canary one step when it is due: its first step, then after each pause the
    /// analysis, then the next step, or an abort (the canary removed, the stable version kept).
    /// nil: the last step before 100 % passed its analysis (`analysed` says how): the environment takes the version.
    private func stepCanary(_ canary: CanaryStrategy, rollout: CanaryRollout, env: EnvironmentSpec, version: RegisteredVersion, commit: GitCommit,
                            steps: [EnvironmentStepRecord], baselines: Baselines, now: @Sendable () -> Double,
                            analysed: inout [EnvironmentChecks.Result],
                            record: (String, EnvironmentStepRecord.State, String, String?) throws -> Void,
                            say: @escaping @Sendable (String) -> Void) async throws -> Waiting? {
        let done = steps.filter { $0.environment == env.name && $0.state == .canary }
        /// - Parameter analysed: the analysis that let the canary through to this step.
        func setNext(_ weight: Int, analysed: [EnvironmentChecks.Result] = []) throws -> Waiting {
            do {
                let detail = try rollout.set(weight: weight)
                try record(env.name, .canary, "\(weight) %: \(detail)" + (analysed.isEmpty ? "" : "; after " + analysed.map(\.said).joined(separator: ", ")), nil)
                ControllerMetrics.canary(environment: env.name, result: "step")
            } catch {
                do { try rollout.remove() } catch { say("\(env.name): the canary Deployments were not removed: \(error)") }
                let why = "the canary could not be set to \(weight) %: \(error)"
                try record(env.name, .failed, why, nil)
                ControllerMetrics.canary(environment: env.name, result: "aborted")
                return Waiting(position: "failed in \(env.name): \(why)", failure: why)
            }
            let due = now() + Double(canary.pauseSeconds)
            return Waiting(position: "canary at \(weight) % in \(env.name), analysed after \(Self.time(due))", dueAt: due)
        }
        guard let latest = done.last else {
            // One canary per environment: an older version's canary there is replaced by this one.
            try supersede(model: version.model, keeping: version.version, in: env.name, states: [.canary], say: say)
            return canary.steps[0] < 100 ? try setNext(canary.steps[0]) : nil
        }
        let weight = canary.steps[min(done.count, canary.steps.count) - 1]
        let due = latest.createdAt + Double(canary.pauseSeconds)
        if now() < due { return Waiting(position: "canary at \(weight) % in \(env.name), analysed after \(Self.time(due))", dueAt: due) }
        let results = await EnvironmentChecks(environment: environment, stateDirectory: stateDirectory, store: store)
            .run(canary.analysis, model: version.model, version: version.version, commit: commit, deploy: env.deploy,
                 modelDigest: version.artifactDigest, runID: version.runID, baselines: baselines, say: say)
        if let bad = results.first(where: { $0.verdict != .passed }) {
            do { try rollout.remove() } catch { say("\(env.name): the canary Deployments were not removed: \(error)") }
            let why = "canary aborted at \(weight) %: check \(bad.check) \(bad.verdict.rawValue): \(bad.detail); the stable version keeps serving"
            try record(env.name, .failed, why, nil)
            ControllerMetrics.canary(environment: env.name, result: "aborted")
            return Waiting(position: "failed in \(env.name): \(why)", failure: why)
        }
        if done.count < canary.steps.count, canary.steps[done.count] < 100 { return try setNext(canary.steps[done.count], analysed: results) }
        analysed = results
        return nil
    }

    /// Records a manual approval of `version` into `environment` (with `gate.signing`, a signed
    /// statement of it too); the caller then advances it and pushes the refs this returns.
    @discardableResult
    public func approve(_ version: RegisteredVersion, into environment: String, spec: PipelineSpec, actor: String, reason: String, now: Double,
                        repository: GitRepository) throws -> [String] {
        guard let index = spec.environments.firstIndex(where: { $0.name == environment }) else {
            let names = spec.environments.map(\.name)
            throw LoadError(message: "\(version.model) version \(version.version) has no environment '\(environment)'",
                            hint: Suggestion.hint(for: environment, in: names) ?? "its environments: \(names.joined(separator: ", "))")
        }
        let steps = try store.steps(model: version.model, version: version.version)
        if let stop = steps.last(where: { $0.state == .failed || $0.state == .superseded }) {
            throw LoadError(message: "version \(version.version) of \(version.model) \(stop.state.rawValue) in \(stop.environment) (\(stop.detail)): it moves no further")
        }
        if steps.contains(where: { $0.environment == environment && $0.state == .entered }) {
            throw LoadError(message: "version \(version.version) of \(version.model) is already in \(environment)")
        }
        if index > 0, !steps.contains(where: { $0.environment == spec.environments[index - 1].name && $0.state == .verified }) {
            throw LoadError(message: "version \(version.version) of \(version.model) has not been verified in \(spec.environments[index - 1].name) yet",
                            hint: "approve it once it is verified there (sluice environments \(version.model))")
        }
        try store.appendStep(EnvironmentStepRecord(model: version.model, version: version.version, environment: environment, state: .approved,
                                                   detail: "approved", actor: actor, reason: reason, runId: version.runID, createdAt: now))
        let approval = Attestations.Approval(model: version.model, version: version.version, environment: environment, actor: actor, reason: reason, at: now)
        return try ModelSigning.attest(approval, of: version, spec: spec, store: store, repository: repository, environment: self.environment)
    }

    /// Other versions that were in `environment` (their chain still open) stop: a newer one took it.
    /// - Parameter states: the latest states that count as waiting there (by default: having
    ///   entered it and not moved on; a canary in progress is replaced only by another canary).
    private func supersede(model: String, keeping version: String, in environment: String,
                           states: Set<EnvironmentStepRecord.State> = [.entered, .verified, .awaitingApproval, .approved],
                           say: @Sendable (String) -> Void) throws {
        let all = try store.steps(model: model)
        for (other, steps) in Dictionary(grouping: all, by: \.version) where other != version {
            guard let latest = steps.last, states.contains(latest.state) else { continue }
            let at = latest.state == .canary ? latest.environment : steps.last(where: { $0.state == .entered })?.environment
            guard at == environment else { continue }
            try store.appendStep(EnvironmentStepRecord(model: model, version: other, environment: environment, state: .superseded,
                                                       detail: "version \(version) entered \(environment)", actor: "sluice",
                                                       runId: latest.runId, createdAt: WallClock.now()))
            say("\(model) version \(other): superseded in \(environment) by version \(version)")
        }
    }

    private func rollBack(model: String, reason: String, actor: String, repository: GitRepository, say: @Sendable (String) -> Void) throws -> [String] {
        do {
            let back = try Promotion(store: store, registry: registry, environment: environment)
                .rollback(model: model, to: nil, actor: actor, reason: reason, repository: repository)
            say("\(model): rolled back to version \(back.entry.version)")
            return back.refs
        } catch {
            say("\(model): no rollback: \(error)")
            return []
        }
    }

    public static func time(_ t: Double) -> String {
        Date(timeIntervalSince1970: t).formatted(.iso8601)
    }
}
