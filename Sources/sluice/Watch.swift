import ArgumentParser
import FoundationEssentials
import Hummingbird
import Logging
import Metrics
import Prometheus
import ServiceLifecycle
import SluiceController
import SluiceCore
import SluiceKube
import SluiceRunner
import SluiceServer
import SluiceYAML
#if canImport(Glibc)
import Glibc
#endif

struct Watch: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "watch",
        abstract: "Run the controller: reconcile every configured repository, serve webhooks, /metrics and the web UI.",
        discussion: """
        A configuration with any error is refused (exit 2) with its located errors. SIGTERM or Ctrl-C \
        stops polling, lets running pipelines finish for --grace seconds (then cancels them; a restart \
        redoes them), and exits 0.
        """
    )

    @OptionGroup var global: GlobalOptions

    @Option(help: "The controller configuration file.")
    var config: String

    @Option(help: "Seconds running pipelines may take to finish after SIGTERM.")
    var grace: Int = 30

    @Flag(help: "Only check the configuration (and that its secrets are set), then exit.")
    var check = false

    @Option(help: "The log's format: text (one line per event) or json (one object per line).")
    var logFormat: LogOutput.Format = .text

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        LogOutput.bootstrap(format: logFormat, environment: environment)
        // Stage pods of the Kubernetes runner talk to this, on the controller's own listener.
        let exchange = PodExchange()
        let metrics = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: metrics)
        factory.defaultValueHistogramBuckets = ControllerMetrics.durationBuckets
        factory.valueHistogramBuckets["sluice_commit_to_deployed_seconds"] = ControllerMetrics.latencyBuckets
        MetricsSystem.bootstrap(factory)
        let settings: ControllerConfig
        var secrets: [String: String] = [:]
        var actionToken: String?
        let service: RunService
        do {
            let bytes = try PolicyLoader.read(config)
            let node: Node?
            do throws(YAMLError) { node = try YAMLParser.parseDocument(bytes, file: config) } catch {
                throw DiagnosticsError([error.diagnostic])
            }
            let decoded = ControllerConfigDecoder.decode(node, file: config)
            for d in DiagnosticRenderer.sorted(decoded.diagnostics) where d.severity == .warning { Output.err(DiagnosticRenderer.line(d)) }
            guard let c = decoded.config else { throw DiagnosticsError(decoded.diagnostics) }
            settings = c
            var missing: [Diagnostic] = []
            for repo in c.repositories {
                if repo.mergeRequests, let forge = repo.effectiveForge, (environment[forge.tokenEnv] ?? "").isEmpty {
                    Output.err(DiagnosticRenderer.line(.warning(at: repo.location,
                        "repository '\(repo.name)': \(forge.tokenEnv) is not set, so merge requests on \(forge.kind) \(forge.project) get no gate report",
                        hint: "export \(forge.tokenEnv) with a token that may comment and set commit statuses")))
                }
                guard let name = repo.webhookSecretEnv else { continue }
                if let value = environment[name], !value.isEmpty { secrets[repo.name] = value } else {
                    missing.append(.error(at: repo.location, "repository '\(repo.name)': webhook-secret-env \(name) is not set in the environment",
                                          hint: "export \(name), or remove webhook-secret-env to rely on polling"))
                }
            }
            if let name = c.tokenEnv {
                if let value = environment[name], !value.isEmpty { actionToken = value } else {
                    missing.append(.error(at: c.tokenLocation ?? SourceLocation(file: config, line: 1, column: 1),
                                          "token-env \(name) is not set in the environment",
                                          hint: "export \(name) with the bearer token for actions, or remove token-env to stay read-only"))
                }
            }
            if !missing.isEmpty { throw DiagnosticsError(missing) }
            if check {
                Output.out("\(config): valid (\(c.repositories.count) repositories)")
                return
            }
            var options = PipelineRunner.Options(environment: environment)
            options.protectedPaths = [Plan.stateLocation(config)]
            options.kubernetes = KubernetesRunnerOptions(environment: environment, exchange: exchange)
            if case .unavailable(let reason) = options.sandboxSupport {
                Output.err("sluice: warning: stages cannot be sandboxed here (\(reason)); merge-request stages are refused unless a repository sets merge-requests: { allow-unsandboxed: true }")
            }
            service = try RunService(stateDirectory: c.stateDirectory.map(Plan.stateLocation) ?? global.stateDirectory, options: options)
            for r in try service.recover() {
                Output.err("sluice: run \(r.run.id!) was interrupted by a crash; queued again as run \(r.retry.id!)")
            }
        } catch let e as DiagnosticsError {
            for d in DiagnosticRenderer.sorted(e.diagnostics) { Output.err(DiagnosticRenderer.line(d)) }
            throw ExitCode(2)
        } catch {
            throw Output.fail(error)
        }

        var watchers: [String: RepositoryWatcher] = [:]
        let slots = ControllerSlots(fetches: settings.fetchParallelism,
                                    runs: settings.runParallelism ?? max(4, 2 * ProcessInfo.processInfo.activeProcessorCount))
        for repo in settings.repositories {
            watchers[repo.name] = RepositoryWatcher(repository: repo, service: service, environment: environment,
                                                    mergeRequestParallelism: settings.mergeRequestParallelism, slots: slots)
        }
        let count = watchers.count
        let leadership = ControllerServer.Leadership()
        var election: LeaderElection?
        if let lease = settings.lease {
            do {
                let identity = environment["POD_NAME"] ?? "\(ProcessInfo.processInfo.hostName)-\(getpid())"
                election = LeaderElection(client: KubeClient(config: try KubeConfig.load(environment: environment)), namespace: lease.namespace,
                                          name: lease.name, identity: identity)
                leadership.set(ready: true, leading: false, "follower (electing)")
            } catch {
                throw Output.fail(error)
            }
        }
        let electing = election
        let server = ControllerServer(watchers: watchers, secrets: secrets, store: service.store, queueLimit: settings.queueLimit,
                                      leadership: leadership, actionToken: actionToken, metrics: metrics)
        let colon = settings.listen.lastIndex(of: ":")!
        let host = String(settings.listen[..<colon]), port = Int(settings.listen[settings.listen.index(after: colon)...])!
        let router = server.router()
        PodEndpoint(exchange: exchange).add(to: router)
        let app = Application(
            router: router,
            configuration: .init(address: .hostname(host, port: port), serverName: "sluice"),
            onServerRunning: { channel in
                // Followers reach this replica's UI at SLUICE_ADVERTISE_URL, else http://$POD_IP:<port>.
                if let electing, let url = environment["SLUICE_ADVERTISE_URL"]
                    ?? environment["POD_IP"].map({ "http://\($0.contains(":") ? "[\($0)]" : $0):\(channel.localAddress?.port ?? port)" }) {
                    electing.advertisedURL.withLock { $0 = url }
                }
                // Stage pods reach the pod endpoint at SLUICE_POD_ENDPOINT_URL (the controller's Service).
                let bound = "http://\(host == "0.0.0.0" || host == "::" ? environment["POD_IP"] ?? "127.0.0.1" : host):\(channel.localAddress?.port ?? port)"
                exchange.setAddress(environment["SLUICE_POD_ENDPOINT_URL"] ?? bound)
                Output.immediate("sluice: listening on \(host):\(channel.localAddress?.port ?? port), watching \(count) repositories")
            }
        )
        // The watchers come last so that they are stopped first: during the grace period the
        // HTTP server still answers (/readyz says it is draining, /metrics and the UI work).
        let watcherService = WatcherService(watchers: Array(watchers.values), grace: Double(grace), election: election, leadership: leadership)
        let group = ServiceGroup(configuration: .init(services: [.init(service: app), .init(service: watcherService)],
                                                      gracefulShutdownSignals: [.sigterm, .sigint], logger: Logger(label: "sluice.services")))
        try await group.run()
        Output.immediate("sluice: stopped")
    }
}

/// Runs every repository's watcher — with a Lease, only while this replica leads — and on
/// graceful shutdown stops polling, drains pipelines and releases the lease.
struct WatcherService: Service {
    let watchers: [RepositoryWatcher]
    let grace: Double
    let election: LeaderElection?
    let leadership: ControllerServer.Leadership

    func run() async throws {
        guard let election else {
            await runWatchers(until: { try? await gracefulShutdown() })
            return
        }
        let period = Double(election.leaseSeconds) / 3
        while !(Task.isCancelled || Task.isShuttingDownGracefully) {
            let state = try await Offload.run { election.tryAcquireOrRenew() }
            switch state {
            case .leader:
                leadership.set(ready: true, leading: true, "leader (\(election.identity))")
                // Lead until shutdown or until a renewal fails.
                await runWatchers(until: {
                    while !(Task.isCancelled || Task.isShuttingDownGracefully) {
                        try? await Task.sleep(for: .seconds(period))
                        if (try? await Offload.run { election.tryAcquireOrRenew() }) != .leader { return }
                    }
                })
                leadership.set(ready: true, leading: false, "follower (lost the lease)")
            case .follower(let holder, let url):
                leadership.set(ready: true, leading: false, "follower (leader: \(holder))", leaderURL: url)
            case .failed(let why):
                leadership.set(ready: false, leading: false, "never leading: \(why)")
                Output.err("sluice: \(why)")
            }
            try? await Task.sleep(for: .seconds(period))
        }
        election.release()
    }

    private func runWatchers(until stop: @escaping @Sendable () async -> Void) async {
        await withTaskGroup(of: Void.self) { group in
            for w in watchers { group.addTask { await w.run() } }
            await stop()
            leadership.set(ready: false, leading: false, "draining: running pipelines have \(Int(grace)) s to finish")
            group.cancelAll()
            await group.waitForAll()
        }
        for w in watchers { await w.drain(grace: grace) }
    }
}
