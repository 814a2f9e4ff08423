import Foundation
import SluiceCore
public import Hummingbird
import HTTPTypes
import Logging
import SluiceRunner
import Synchronization

/// Sluice's pod endpoint: what the Sluice containers of a stage's pod talk to (see `StageJob`).
///
///     GET /pods/v1/workspace   the stage's workspace as a tar archive (init container)
///     GET /pods/v1/collect     long poll: 204 while the stage runs, then {"paths": [...]} to send back
///     PUT /pods/v1/outputs     the archive of those paths (collector)
///
/// Every request carries `Authorization: Bearer <token>`, the stage's token from the run's
/// Secret; a token is only known while its stage runs. `sluice watch` serves these routes on
/// its own listener; `sluice run` starts one when its first Kubernetes stage needs it.
public struct PodEndpoint: Sendable {
    public let exchange: PodExchange
    /// The largest archive of outputs taken from a pod.
    public static let uploadLimit = 64 << 30

    public init(exchange: PodExchange) { self.exchange = exchange }

    public func add(to router: Router<BasicRequestContext>) {
        let pods = router.group("pods/v1")
        pods.get("workspace") { request, context -> Response in
            guard let token = Self.token(request), let stage = exchange.stage(token: token) else { return Self.refused() }
            let result = try await Offload.run {
                try Command.run(["tar", "-cf", stage.workspaceArchive, "-C", stage.workspace, "."], workingDirectory: stage.scratch,
                                environment: ["PATH": "/usr/bin:/bin"], timeoutSeconds: 3600)
            }
            guard result.status == 0 else {
                return Self.text(.internalServerError, "the workspace could not be archived: \(result.summary) \(result.stderr.prefix(300))")
            }
            let body = try await FileIO().loadFile(path: stage.workspaceArchive, context: context)
            return Response(status: .ok, headers: [.contentType: "application/x-tar"], body: body)
        }
        pods.get("collect") { request, _ -> Response in
            guard let token = Self.token(request) else { return Self.refused() }
            // Long poll: answer as soon as the stage has ended, or after 25 s with "not yet".
            for _ in 0..<500 {
                switch exchange.collect(token: token) {
                case nil: return Self.refused()
                case .some(nil): try await Task.sleep(for: .milliseconds(50))
                case .some(let paths?):
                    let json = try JSONSerialization.data(withJSONObject: ["paths": paths])
                    return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: json)))
                }
            }
            return Response(status: .noContent)
        }
        pods.put("outputs") { request, context -> Response in
            guard let token = Self.token(request), exchange.stage(token: token) != nil else { return Self.refused() }
            guard let inbox = exchange.inbox(token: token) else {
                return Self.text(.conflict, "the stage has not ended yet: ask /pods/v1/collect first")
            }
            guard let length = request.headers[.contentLength].flatMap(Int.init) else {
                return Self.text(.lengthRequired, "send the archive with a Content-Length")
            }
            if length > Self.uploadLimit {
                return Self.text(.contentTooLarge, "outputs of \(length) bytes are more than the \(Self.uploadLimit) bytes Sluice takes from a pod")
            }
            try await FileIO().writeFile(contents: request.body, path: inbox, context: context)
            exchange.received(token: token)
            return Self.text(.ok, "received")
        }
    }

    static func token(_ request: Request) -> String? {
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer ") else { return nil }
        let token = String(header.dropFirst(7))
        return token.isEmpty ? nil : token
    }

    static func refused() -> Response {
        text(.unauthorized, "unknown or expired stage token (the stage is not running on this Sluice)")
    }

    static func text(_ status: HTTPResponse.Status, _ message: String) -> Response {
        Response(status: status, headers: [.contentType: "text/plain; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: message + "\n")))
    }

    /// Serves the endpoint on its own listener (`host:port`, port 0 for any) until the process
    /// ends; returns the URL pods are given (`advertise`, else `http://host:port`).
    public static func start(exchange: PodExchange, listen: String, advertise: String?) async throws -> String {
        guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]) else {
            throw LoadError(message: "SLUICE_POD_ENDPOINT_LISTEN '\(listen)' is not host:port", hint: "e.g. 0.0.0.0:8081")
        }
        let host = String(listen[..<colon])
        let router = Router()
        PodEndpoint(exchange: exchange).add(to: router)
        let resumed = Mutex(false)
        return try await withCheckedThrowingContinuation { continuation in
            let first: @Sendable () -> Bool = { resumed.withLock { done in defer { done = true }; return !done } }
            var logger = Logger(label: "sluice.pods")
            logger.logLevel = .warning
            let app = Application(router: router, configuration: .init(address: .hostname(host, port: port), serverName: "sluice-pods"),
                                  onServerRunning: { channel in
                                      if first() { continuation.resume(returning: advertise ?? "http://\(host):\(channel.localAddress?.port ?? port)") }
                                  }, logger: logger)
            Task.detached {
                do {
                    // No signal handling here: Ctrl-C belongs to `sluice run` (it cancels the run).
                    try await app.runService(gracefulShutdownSignals: [])
                } catch {
                    if first() { continuation.resume(throwing: LoadError(message: "Sluice's pod endpoint cannot listen on \(listen): \(error)")) }
                }
            }
        }
    }
}
