import FoundationEssentials
import Logging
public import Prometheus
import Metrics
import SluiceCore
import SluiceKube
import SluiceRunner
public import SluiceServer
#if canImport(Glibc)
import Glibc
#endif

/// The controller `sluice watch` runs, assembled from checked settings: the run store, one
/// watcher per repository (sharing fetch and run slots), the HTTP server (webhooks, `/metrics`,
/// health, the web UI, the pod endpoint) and, with a Lease, leader election. Tests assemble
/// one the same way.
public struct Controller: Sendable {
    public let settings: ControllerSettings
    public let service: RunService
    public let watchers: [String: RepositoryWatcher]
    public let server: ControllerServer
    /// Delivers notification events (nil: no providers configured).
    public let sender: NotificationSender?
    /// What stage pods of the Kubernetes runner talk to, on the controller's own listener.
    let exchange: PodExchange
    let election: LeaderElection?
    let environment: [String: String]
    /// Warnings for the operator's terminal (the CLI prints them to stderr).
    let say: @Sendable (String) -> Void

    /// Opens the run store (queueing again what a crash interrupted) and builds every part;
    /// nothing runs until `run`.
    /// - Parameters:
    ///   - stateDirectory: the state folder when the configuration names none.
    ///   - metrics: what `/metrics` renders (see `bootstrapMetrics`).
    public init(settings: ControllerSettings, stateDirectory: String, environment: [String: String],
                metrics: PrometheusCollectorRegistry, say: @escaping @Sendable (String) -> Void) throws {
        let config = settings.config
        let exchange = PodExchange()
        var options = PipelineRunner.Options(environment: environment)
        options.protectedPaths = [RepositorySource.stateLocation(settings.path)]
        options.kubernetes = KubernetesRunnerOptions(environment: environment, exchange: exchange)
        if case .unavailable(let reason) = options.sandboxSupport {
            say("sluice: warning: stages cannot be sandboxed here (\(reason)); merge-request stages are refused unless a repository sets merge-requests: { allow-unsandboxed: true }")
        }
        let service = try RunService(stateDirectory: config.stateDirectory.map(RepositorySource.stateLocation) ?? stateDirectory, options: options,
                                     artifacts: settings.artifactStorage, database: settings.database)
        if let database = settings.database { say("sluice: the run store is the PostgreSQL database \(database.redacted)") }
        if let bucket = settings.artifactStorage { say("sluice: artifacts are kept in \(bucket.description), the state folder caches them") }
        // With a Lease, the replica that leads recovers (when it starts leading, and at each renewal).
        // Anything queued before this process started was queued by an earlier one.
        if config.lease == nil { try Self.recover(service, queuedBefore: WallClock.now(), say: say) }
        let slots = ControllerSlots(fetches: config.fetchParallelism,
                                    runs: config.runParallelism ?? max(4, 2 * ProcessInfo.processInfo.activeProcessorCount))
        var watchers: [String: RepositoryWatcher] = [:]
        for repo in config.repositories {
            watchers[repo.name] = RepositoryWatcher(repository: repo, service: service, environment: environment,
                                                    mergeRequestParallelism: config.mergeRequestParallelism, slots: slots,
                                                    notifications: !config.notifications.providers.isEmpty)
        }
        let leadership = ControllerServer.Leadership()
        if let lease = config.lease {
            let identity = environment["POD_NAME"] ?? "\(ProcessInfo.processInfo.hostName)-\(getpid())"
            election = LeaderElection(client: KubeClient(config: try KubeConfig.load(environment: environment)), namespace: lease.namespace,
                                      name: lease.name, identity: identity, leaseSeconds: lease.durationSeconds)
            leadership.set(ready: true, leading: false, "follower (electing)")
            service.store.follow(lease: "\(lease.namespace)/\(lease.name)")
        } else {
            election = nil
        }
        sender = config.notifications.providers.isEmpty ? nil
            : NotificationSender(store: service.store, settings: config.notifications, endpoints: settings.notificationEndpoints,
                                 baseURL: config.notifications.url ?? "http://\(config.listen)")
        self.settings = settings
        self.service = service
        self.watchers = watchers
        self.exchange = exchange
        self.environment = environment
        self.say = say
        server = ControllerServer(watchers: watchers, secrets: settings.webhookSecrets, store: service.store, queueLimit: config.queueLimit,
                                  leadership: leadership, actionToken: settings.actionToken, metrics: metrics,
                                  repositorySeries: ControllerMetrics.repositories)
    }

    /// Reconciles and serves until SIGTERM or SIGINT; then stops polling, lets running pipelines
    /// finish for `grace` seconds (then cancels them), releases the lease and returns.
    /// - Parameter listening: told where the server listens, once it does.
    public func run(grace: Double, listening: @escaping @Sendable (String) -> Void) async throws {
        let listen = settings.config.listen
        let colon = listen.lastIndex(of: ":")!
        let host = String(listen[..<colon]), port = Int(listen[listen.index(after: colon)...])!
        let (environment, election, exchange, count, sender) = (environment, election, exchange, watchers.count, sender)
        let (service, say) = (service, say)
        let recover: @Sendable (Double) -> Void = { queuedBefore in
            do { try Self.recover(service, queuedBefore: queuedBefore, say: say) } catch { say("sluice: the interrupted runs could not be recovered: \(error)") }
        }
        let work = WatcherService(watchers: Array(watchers.values), sender: sender, grace: grace, election: election, leadership: server.leadership,
                                  recover: recover, store: service.store, say: say)
        try await server.serve(host: host, port: port, exchange: exchange, alongside: work) { bound in
            // Followers reach this replica's UI at SLUICE_ADVERTISE_URL, else http://$POD_IP:<port>.
            if let election, let url = environment["SLUICE_ADVERTISE_URL"]
                ?? environment["POD_IP"].map({ "http://\($0.contains(":") ? "[\($0)]" : $0):\(bound)" }) {
                election.advertisedURL.withLock { $0 = url }
            }
            // Stage pods reach the pod endpoint at SLUICE_POD_ENDPOINT_URL (the controller's Service).
            let address = "http://\(host == "0.0.0.0" || host == "::" ? environment["POD_IP"] ?? "127.0.0.1" : host):\(bound)"
            exchange.setAddress(environment["SLUICE_POD_ENDPOINT_URL"] ?? address)
            sender?.listening(at: environment["SLUICE_ADVERTISE_URL"] ?? address)
            listening("sluice: listening on \(host):\(bound), watching \(count) repositories")
        }
    }

    /// Marks the runs whose owner is gone (a crash, a replica that died) interrupted and queues a
    /// retry of each; the watchers pick the retries up with their commits.
    private static func recover(_ service: RunService, queuedBefore: Double, say: (String) -> Void) throws {
        for r in try service.recover(queuedBefore: queuedBefore) {
            say("sluice: " + r.said)
        }
    }

    /// Sends swift-metrics to a Prometheus registry (once per process), with the controller's
    /// histogram buckets; `/metrics` renders the registry.
    public static func bootstrapMetrics() -> PrometheusCollectorRegistry {
        let metrics = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: metrics)
        factory.defaultValueHistogramBuckets = ControllerMetrics.durationBuckets
        factory.valueHistogramBuckets[ControllerMetric.commitToDeployed.rawValue] = ControllerMetrics.latencyBuckets
        MetricsSystem.bootstrap(factory)
        return metrics
    }
}
