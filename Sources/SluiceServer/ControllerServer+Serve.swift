import Hummingbird
import Logging
public import ServiceLifecycle

extension ControllerServer {
    /// Serves the routes and the pod endpoint on `host:port` with `work` beside it until SIGTERM
    /// or SIGINT. `work` is listed last so that it is stopped first: while it drains, the server
    /// still answers (`/readyz` says it is draining, `/metrics` and the UI work).
    /// - Parameter listening: called with the port once the listener is bound.
    public func serve(host: String, port: Int, exchange: PodExchange, alongside work: some Service,
                      listening: @escaping @Sendable (Int) -> Void) async throws {
        let router = router()
        PodEndpoint(exchange: exchange).add(to: router)
        let app = Application(
            router: router,
            configuration: .init(address: .hostname(host, port: port), serverName: "sluice"),
            onServerRunning: { channel in listening(channel.localAddress?.port ?? port) }
        )
        let group = ServiceGroup(configuration: .init(services: [.init(service: app), .init(service: work)],
                                                      gracefulShutdownSignals: [.sigterm, .sigint], logger: Logger(label: "sluice.services")))
        try await group.run()
    }
}
