import Foundation
import SluiceTestSupport

/// What a failover test stands on: the emulator's API server (for the Lease), a real PostgreSQL
/// with a database for the run store, a scratch folder, and a controller configuration of one
/// repository. Replicas are `sluice watch` processes of that configuration, each with a state
/// folder of its own and its log in `<scratch>/<name>.log`.
final class Replicas {
    let kube: KubeEmulator
    let server: PostgresServer
    /// `SLUICE_DATABASE_URL` of the run store's database, and the database's name.
    let url: String
    let databaseName: String
    let scratch: TemporaryDirectory
    let config: String
    /// What every replica is given besides `KUBECONFIG` and `SLUICE_DATABASE_URL`.
    var environment: [String: String] = [:]

    /// - Parameters:
    ///   - lease: keys added to the `lease:` mapping (`duration: 3s`).
    ///   - settings: more top-level lines of the configuration (`token-env: …`).
    ///   - repositoryKeys: more keys of the repository's entry (`, forge: { … }`).
    ///   - kube: an emulator of the caller's (with namespace `sluice-system` for the Lease).
    init(repository: String, name: String, lease: String = "", settings: String = "", repositoryKeys: String = "",
         kube: KubeEmulator? = nil) throws {
        self.kube = try kube ?? KubeEmulator(namespace: "sluice-system")
        server = try PostgresServer()
        let database = try server.createDatabase()
        (url, databaseName) = (server.url(database), database.database)
        scratch = TemporaryDirectory(prefix: "sluice-failover")
        config = scratch.write("controller.yaml", """
            listen: 127.0.0.1:0
            interval: 1s
            \(settings)lease: { namespace: sluice-system, name: sluice-leader\(lease.isEmpty ? "" : ", " + lease) }
            store: { url-env: SLUICE_DATABASE_URL }
            repositories:
              - { name: \(name), url: \(repository)\(repositoryKeys) }
            """)
    }

    func start(_ name: String) throws -> BackgroundProcess {
        try BackgroundProcess(RepositoryLayout.sluiceBinary, ["watch", "--config", config, "--state", scratch.path + "/" + name],
                              readyPrefix: "sluice: listening on 127.0.0.1:",
                              environment: environment.merging(["POD_NAME": name, "POD_IP": "127.0.0.1", "KUBECONFIG": kube.kubeconfig,
                                                                "SLUICE_DATABASE_URL": url]) { $1 },
                              stderrFile: scratch.path + "/\(name).log")
    }

    /// The port a replica listens on, and its address.
    static func port(_ replica: BackgroundProcess) -> Int { Int(replica.readyLine.split(separator: ",")[0]) ?? 0 }
    static func address(_ replica: BackgroundProcess) -> String { "http://127.0.0.1:\(port(replica))" }

    /// What the replica logged so far.
    func log(_ name: String) -> String { (try? String(contentsOfFile: scratch.path + "/\(name).log", encoding: .utf8)) ?? "" }

    /// `psql`'s unaligned answer from the run store's database.
    func sql(_ query: String) throws -> String { try server.psql(query, database: databaseName) }
}

/// Replicas of one `Replicas` whose leader is killed again and again: `replica-1` leads, a
/// follower stands by, and each `killLeader` (`kill -9`) starts a new replica in the dead one's
/// place and waits until a live one leads in a new term.
final class Failovers {
    let replicas: Replicas
    private(set) var leader: (name: String, process: BackgroundProcess)
    private(set) var follower: (name: String, process: BackgroundProcess)
    private var started = 0

    init(_ replicas: Replicas) throws {
        self.replicas = replicas
        func start(_ n: Int) throws -> (name: String, process: BackgroundProcess) { ("replica-\(n)", try replicas.start("replica-\(n)")) }
        leader = try start(1)
        follower = try start(2)
        started = 2
        let first = leader.name
        try waitUntil("\(first) to lead", timeout: 60) { try Self.term(replicas).hasPrefix(first + " ") }
    }

    /// Who leads, in which term, as the store numbers them (`replica-3 4`).
    static func term(_ replicas: Replicas) throws -> String { try replicas.sql("SELECT holder || ' ' || term FROM leadership") }
    func term() throws -> String { try Self.term(replicas) }

    /// The live replicas' web addresses, the leader's first.
    var addresses: [String] { [leader, follower].map { Replicas.address($0.process) } }

    /// Kills the leader, starts a replica in its place, and waits until a live replica leads in a
    /// new term (the follower or the new one, once the Lease runs out). `context` goes into every failure.
    func killLeader(_ context: String) throws {
        let ended = try term()
        kill(leader.process.pid, SIGKILL)
        var status: Int32 = 0
        waitpid(leader.process.pid, &status, 0)
        let dead = leader.name
        started += 1
        let survivors: [(name: String, process: BackgroundProcess)] = [follower, ("replica-\(started)", try replicas.start("replica-\(started)"))]
        var next = ""
        try waitUntil("a replica to lead after \(dead) died (\(context))", timeout: 60) {
            next = try term()
            return next != ended && !next.hasPrefix(dead + " ")
        }
        guard let now = survivors.first(where: { next.hasPrefix($0.name + " ") }) else {
            throw FailoverError(message: "\(next) leads, not a live replica (\(context))")
        }
        (leader, follower) = (now, survivors.first { $0.name != now.name }!)
    }

    /// The last lines each replica started so far logged, for a failure message.
    func logTails(lines: Int = 25) -> String {
        (1...started).map { n in
            "--- replica-\(n)\n" + replicas.log("replica-\(n)").split(separator: "\n").suffix(lines).joined(separator: "\n")
        }.joined(separator: "\n")
    }

    struct FailoverError: Error, CustomStringConvertible {
        var message: String
        var description: String { message }
    }
}
