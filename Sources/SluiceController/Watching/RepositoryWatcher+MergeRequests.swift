import FoundationEssentials
import SluiceCore
import SluiceForge
import SluiceRunner

/// The fork policy: a merge request whose head lives in a fork runs never, once approved, or
/// always (`merge-requests: { forks: ... }`). Held heads get a pending (or failing) status
/// saying why, are listed by the UI and the API, and run once someone approves the commit.
extension RepositoryWatcher {
    /// The merge-request refs among `updates` (and those running) whose merge request is closed:
    /// only open ones run (forges keep the refs of closed ones); the run of one closed meanwhile
    /// is cancelled. Empty when the forge cannot say.
    func closedMergeRequests(among updates: [RefTracker.Update]) async -> Set<String> {
        var closed: Set<String> = []
        let mergeRequestRefs = Set(updates.map(\.ref).filter { MergeRequestRef.number(of: $0) != nil }).union(mergeRequestsRunning.keys)
        guard !mergeRequestRefs.isEmpty else { return closed }
        let asked = await openMergeRequests()
        openThisPass = .some(asked)
        guard let open = asked else { return closed }
        closed = mergeRequestRefs.filter { MergeRequestRef.number(of: $0).map { !open.contains($0) } ?? false }
        for ref in closed {
            if let running = mergeRequestsRunning[ref] {
                running.task.cancel()
                log.info("merge request \(ref) was closed: its run is cancelled", metadata: ["ref": .string(ref)])
            } else if !closedNoted.contains(ref) {
                log.info("merge request \(ref) is closed: not run", metadata: ["ref": .string(ref)])
            }
        }
        closedNoted = closed
        return closed
    }

    func startMergeRequest(_ update: RefTracker.Update, after previous: Task<Void, Never>? = nil) {
        health.runsStarted += 1
        let task = Task {
            await previous?.value
            await self.runPipeline(update: update, trigger: "watch: merge request \(update.ref)", production: false)
            self.finishedMergeRequest(update.ref, head: update.head)
        }
        mergeRequestsRunning[update.ref] = (update.head, task)
    }

    func finishedMergeRequest(_ ref: String, head: String) {
        if mergeRequestsRunning[ref]?.head == head { mergeRequestsRunning[ref] = nil }
        wake()  // a merge request waiting for a free slot starts now, not at the next poll
    }

    /// Whether `update` (a merge-request head) may run now; when not, holds it and says why once.
    func admit(_ update: RefTracker.Update) async -> Bool {
        guard let number = MergeRequestRef.number(of: update.ref) else { return true }
        let origin = await origin(of: number)
        let approved: Bool
        do {
            approved = try service.store.approval(repository: repository.url, ref: update.ref, commit: update.head) != nil
        } catch {
            log.error("cannot read approvals: \(error); merge request \(number) waits")
            return false
        }
        switch ForkAdmission.decide(policy: repository.forks, origin: origin, approved: approved) {
        case .run:
            health.held[update.ref] = nil
            return true
        case .awaitingApproval(let reason):
            hold(update, number: number, reason: reason, awaitingApproval: true)
        case .refused(let reason):
            hold(update, number: number, reason: reason, awaitingApproval: false)
        }
        return false
    }

    private func hold(_ update: RefTracker.Update, number: Int, reason: String, awaitingApproval: Bool) {
        guard health.held[update.ref]?.head != update.head else { return }
        health.held[update.ref] = HeldMergeRequest(ref: update.ref, head: update.head, reason: reason, awaitingApproval: awaitingApproval,
                                                   since: WallClock.now())
        log.warning("merge request \(number) at \(CommitID(update.head).short): \(reason)",
                    metadata: ["ref": .string(update.ref), "commit": .string(CommitID(update.head).short)])
        if let notifier = notifier(for: update.ref, log: log) {
            reported(notifier.held(commit: update.head, reason: reason, awaitingApproval: awaitingApproval))
        }
    }

    /// What the forge answered while Sluice reported on a merge request: each refusal is logged
    /// and counted, and the `Reported` condition says whether the last report got through.
    func reported(_ problems: [NotificationProblem]) {
        for p in problems {
            log.warning("\(p.message)", metadata: ["forge": .string(p.forge), "code": .string(p.status.map(String.init) ?? "unreachable")])
            ControllerMetrics.forgeFailure(repository: repository.name, forge: p.forge, status: p.status)
        }
        if let last = problems.last {
            setCondition(last.status == 401 ? .forgeUnauthorized : last.status == 403 ? .forgeForbidden : .forgeError,
                         message: last.message)
        } else {
            setCondition(.reported, message: "the forge accepted the last merge-request comment and status")
        }
    }

    /// The settings the forge adapter reads: the repository's `forge`, over Sluice's environment.
    nonisolated var forgeEnvironment: [String: String] {
        repository.effectiveForge.map { $0.environment(over: environment) } ?? environment
    }

    /// The open merge requests, from the forge (nil: no forge to ask, or it did not answer;
    /// then every merge-request ref counts, as before).
    func openMergeRequests() async -> Set<Int>? {
        let forgeEnvironment = self.forgeEnvironment
        let answer: Result<Set<Int>?, ForgeError> = await Offload.run {
            do throws(ForgeError) {
                guard let forge = try ForgeConfiguration.fromEnvironment(forgeEnvironment) else { return .success(nil) }
                return .success(try forge.openMergeRequests())
            } catch {
                return .failure(error)
            }
        }
        switch answer {
        case .success(let open): return open
        case .failure(let error):
            log.warning("cannot list the open merge requests (\(error)); every merge-request ref is considered")
            return nil
        }
    }

    /// Where merge request `number`'s head lives. A local repository has no forks (whoever can
    /// write its refs can write the controller's files); a remote one asks its forge.
    func origin(of number: Int) async -> ForkAdmission.Origin {
        if !RepositorySource.isRemote(repository.url) { return .sameRepository }
        if let known = forkOrigins[number] { return known }
        let forgeEnvironment = self.forgeEnvironment
        let found: ForkAdmission.Origin = await Offload.run {
            do {
                guard let forge = try ForgeConfiguration.fromEnvironment(forgeEnvironment) else {
                    return .unknown("no forge is configured to ask: set forge: with a token")
                }
                let origin = try forge.mergeRequestOrigin(number)
                return origin.fromFork ? .fork(origin.headRepository) : .sameRepository
            } catch {
                return .unknown("\(error)")
            }
        }
        if case .unknown = found { return found }  // asked again next time
        forkOrigins[number] = found
        return found
    }

    /// Lets a held merge request's head run (`sluice approve-run`, the UI, the API). `commit`,
    /// when given, must be the head that waits: an approval is for the code someone reviewed.
    /// Returns the approved commit.
    public func approve(ref: String, commit: String?, actor: String) throws(ActionError) -> String {
        guard MergeRequestRef.number(of: ref) != nil else {
            throw .failed("\(ref) is not a merge-request ref (refs/pull/N/head or refs/merge-requests/N/head)")
        }
        guard let held = health.held[ref] else {
            throw .notFound("no merge request waits for approval at \(ref) in \(repository.name)")
        }
        if let commit, !held.head.hasPrefix(commit.lowercased()) || commit.count < 7 {
            throw .conflict("\(ref) is now at \(CommitID(held.head).short), not \(commit): review that commit, then approve it")
        }
        guard held.awaitingApproval else { throw .conflict(held.reason) }
        do {
            try service.store.approve(repository: repository.url, ref: ref, commit: held.head, by: actor, at: WallClock.now())
        } catch {
            throw .failed("the approval could not be recorded: \(error)")
        }
        log.info("merge request \(ref) at \(CommitID(held.head).short) approved by \(actor)", metadata: ["ref": .string(ref)])
        wake()
        return held.head
    }
}
