import Logging
import ServiceLifecycle
import SluiceKube
import SluiceRunner
import SluiceServer
import SluiceStore

/// Runs every repository's watcher — with a Lease, only while this replica leads — and on
/// graceful shutdown stops polling, drains pipelines and releases the lease.
struct WatcherService: Service {
    let watchers: [RepositoryWatcher]
    /// Delivers notifications while this replica leads (two senders would send twice).
    let sender: NotificationSender?
    let grace: Double
    let election: LeaderElection?
    let leadership: ControllerServer.Leadership
    /// Marks the runs whose owner is gone interrupted and queues their retries: on each start of
    /// leading (a replica taking over finds the runs of the one that died; a shared run store
    /// keeps them) and at each renewal, so that only a leader writes them. Given when this
    /// replica's term began: a run queued before then and not held was queued by a leader that died.
    let recover: @Sendable (_ queuedBefore: Double) -> Void
    /// Where each start of leading is numbered (`LeadershipTerm`): the fence of promotions,
    /// deploys and forge statuses.
    let store: RunStore
    let say: @Sendable (String) -> Void

    func run() async throws {
        guard let election else {
            await runWatchers(until: { try? await gracefulShutdown() })
            return
        }
        let period = Double(election.leaseSeconds) / 3
        while !(Task.isCancelled || Task.isShuttingDownGracefully) {
            let state = await Offload.run { election.tryAcquireOrRenew() }
            switch state {
            case .leader:
                let began = WallClock.now()
                guard let term = await beginTerm(election) else { break }
                say("sluice: leading: \(term)")
                leadership.set(ready: true, leading: true, "leader (\(election.identity)), term \(term.number)")
                await Offload.run { recover(began) }
                // Lead until shutdown or until a renewal fails.
                await runWatchers(until: {
                    while !(Task.isCancelled || Task.isShuttingDownGracefully) {
                        try? await Task.sleep(for: .seconds(period))
                        if await Offload.run({ election.tryAcquireOrRenew() }) != .leader {
                            // Pipelines still draining act outside no more: another replica may lead already.
                            store.endTerm()
                            return
                        }
                        // Again at each renewal: a run whose owner was alive when this replica
                        // began (paused, or cut off until the server ended its session) and
                        // died since is found within a period, not left `running`.
                        await Offload.run { recover(began) }
                    }
                })
                leadership.set(ready: true, leading: false, "follower (lost the lease)")
            case .follower(let holder, let url):
                leadership.set(ready: true, leading: false, "follower (leader: \(holder))", leaderURL: url)
            case .failed(let why):
                leadership.set(ready: false, leading: false, "never leading: \(why)")
                say("sluice: \(why)")
            }
            try? await Task.sleep(for: .seconds(period))
        }
        store.endTerm()
        election.release()
    }

    /// Numbers this start of leading in the run store; nil (said) when it could not: holding the
    /// Lease without a term would act unfenced, so the replica waits a period and tries again.
    private func beginTerm(_ election: LeaderElection) async -> LeadershipTerm? {
        let lease = "\(election.namespace)/\(election.name)"
        do {
            return try await Offload.run { () throws -> LeadershipTerm in
                try store.beginTerm(lease: lease, holder: election.identity, at: WallClock.now())
            }
        } catch {
            leadership.set(ready: false, leading: false, "not leading: the leadership term could not be recorded: \(error)")
            say("sluice: lease \(lease) acquired, but the leadership term could not be recorded in the run store: \(error); trying again")
            return nil
        }
    }

    private func runWatchers(until stop: @escaping @Sendable () async -> Void) async {
        await withTaskGroup(of: Void.self) { delivering in
            // The sender runs until the pipelines have drained, so what they record goes out now.
            if let sender { delivering.addTask { await sender.run() } }
            await withTaskGroup(of: Void.self) { group in
                for w in watchers { group.addTask { await w.run() } }
                await stop()
                leadership.set(ready: false, leading: false, "draining: running pipelines have \(Int(grace)) s to finish")
                group.cancelAll()
                await group.waitForAll()
            }
            for w in watchers { await w.drain(grace: grace) }
            delivering.cancelAll()
        }
    }
}
