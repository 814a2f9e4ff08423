import FoundationEssentials
import SluiceCore
import SluiceHTTP
import SluiceRunner
#if canImport(Glibc)
import Glibc
#endif

/// What Sluice's own containers do inside a stage's pod (`sluice pod workspace`, `sluice pod
/// collect`): move the workspace in and the outputs out through Sluice's pod endpoint, with
/// the stage's token. They retry while the controller is away (a restart), for as long as
/// the pod lives: deleting the Job ends them.
public struct PodSide: Sendable {
    public let endpoint: String
    public let token: String
    /// The shared `emptyDir` (the containers' working directory).
    public let workspace: String
    /// Seconds without reaching Sluice before giving up (`SLUICE_POD_PATIENCE`, default an hour).
    let patience: Double
    let say: @Sendable (String) -> Void

    public init(environment: [String: String], workspace: String, say: @escaping @Sendable (String) -> Void) throws {
        guard let endpoint = environment[StageJob.endpointVariable], !endpoint.isEmpty,
              let token = environment[StageJob.tokenVariable], !token.isEmpty else {
            throw LoadError(message: "\(StageJob.endpointVariable) and \(StageJob.tokenVariable) must be set",
                            hint: "these commands run inside a stage's pod, which Sluice creates")
        }
        var base = endpoint
        while base.hasSuffix("/") { base.removeLast() }
        self.endpoint = base
        self.token = token
        self.workspace = workspace
        patience = environment["SLUICE_POD_PATIENCE"].flatMap(Double.init).map { max(1, $0) } ?? 3600
        self.say = say
    }

    var headers: [(name: String, value: String)] { [("Authorization", "Bearer \(token)"), ("User-Agent", "sluice-pod")] }

    /// Fetches the workspace archive and unpacks it into the working directory.
    public func fetchWorkspace() throws {
        let archive = Self.temporaryFile("workspace")
        defer { unlink(archive) }
        try retrying("fetch the workspace") { () throws -> Bool in
            guard let file = fopen(archive, "w") else { throw LoadError(message: "cannot write \(archive): \(String(cString: strerror(errno)))") }
            defer { fclose(file) }
            let response = try HTTPClient().send(HTTPRequest(url: endpoint + "/pods/v1/workspace", headers: headers, timeout: 3600)) { chunk in
                _ = fwrite(chunk.baseAddress, 1, chunk.count, file)
            }
            if response.status == 401 { return false }
            guard response.status == 200 else { throw LoadError(message: "the pod endpoint answered \(response.status): \(response.text)") }
            return true
        }
        let result = try Command.run(["tar", "-xf", archive, "-C", workspace, "--no-same-owner"], workingDirectory: workspace,
                                     environment: ["PATH": "/usr/bin:/bin"], timeoutSeconds: 3600)
        guard result.status == 0 else { throw LoadError(message: "the workspace could not be unpacked: \(result.summary) \(result.stderr)") }
        say("workspace ready in \(workspace)")
    }

    /// Waits until Sluice says the stage has ended, then sends the paths it asks for.
    public func collectOutputs() throws {
        var paths: [String] = []
        try retrying("learn when the stage has ended") { () throws -> Bool in
            let response = try HTTPClient().send(HTTPRequest(url: endpoint + "/pods/v1/collect", headers: headers, timeout: 60))
            switch response.status {
            case 200:
                struct Answer: Decodable { var paths: [String] }
                paths = try JSONDecoder().decode(Answer.self, from: Data(response.body)).paths
                return true
            case 204, 401, 502, 503, 504: return false   // still running; a restarted controller has not re-attached yet; a proxy in between
            default: throw LoadError(message: "the pod endpoint answered \(response.status): \(response.text)")
            }
        }
        let present = paths.map(RepositoryPath.normalized).filter { !$0.isEmpty && access(workspace + "/" + $0, F_OK) == 0 }
        guard !present.isEmpty else {
            say("nothing to send back")
            return
        }
        let archive = Self.temporaryFile("outputs")
        defer { unlink(archive) }
        // "./" keeps a path that starts with '-' from reading as an option.
        let result = try Command.run(["tar", "-cf", archive, "-C", workspace, "--"] + present.map { "./" + $0 }, workingDirectory: workspace,
                                     environment: ["PATH": "/usr/bin:/bin"], timeoutSeconds: 3600)
        guard result.status == 0 else { throw LoadError(message: "the outputs could not be archived: \(result.summary) \(result.stderr)") }
        try retrying("send the outputs") { () throws -> Bool in
            let response = try HTTPClient().send(HTTPRequest(method: "PUT", url: endpoint + "/pods/v1/outputs",
                                                             headers: headers + [("Content-Type", "application/x-tar")], bodyFile: archive, timeout: 3600))
            if response.status == 401 { return false }
            guard response.status == 200 else { throw LoadError(message: "the pod endpoint answered \(response.status): \(response.text)") }
            return true
        }
        say("sent back \(present.joined(separator: ", "))")
    }

    /// Repeats `attempt` until it returns true; connection failures and "not yet" are retried,
    /// until Sluice has been unreachable for `patience` seconds in a row (it is gone for good).
    private func retrying(_ what: String, _ attempt: () throws -> Bool) throws {
        var failures = 0
        while true {
            do {
                if try attempt() { return }
                failures = 0
            } catch let error as HTTPError where error.kind != .tls {
                // Refused, reset or cut: the controller is restarting (a wrong certificate is not retried).
                failures += 1
                if failures == 1 || failures % 30 == 0 { say("cannot \(what) yet (\(error.message)); retrying") }
                if Double(failures) > patience {
                    throw LoadError(message: "Sluice at \(endpoint) was unreachable for \(Int(patience)) s: giving up (\(error.message))")
                }
            }
            usleep(failures == 0 ? 100_000 : 1_000_000)
        }
    }

    static func temporaryFile(_ name: String) -> String {
        let dir = ProcessInfo.processInfo.environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        return "\(dir)/sluice-\(name)-\(getpid()).tar"
    }
}
