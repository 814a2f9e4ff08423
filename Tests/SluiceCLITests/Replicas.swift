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
    init(repository: String, name: String, lease: String = "", settings: String = "") throws {
        kube = try KubeEmulator(namespace: "sluice-system")
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
              - { name: \(name), url: \(repository) }
            """)
    }

    func start(_ name: String) throws -> BackgroundProcess {
        try BackgroundProcess(RepositoryLayout.sluiceBinary, ["watch", "--config", config, "--state", scratch.path + "/" + name],
                              readyPrefix: "sluice: listening on 127.0.0.1:",
                              environment: environment.merging(["POD_NAME": name, "POD_IP": "127.0.0.1", "KUBECONFIG": kube.kubeconfig,
                                                                "SLUICE_DATABASE_URL": url]) { $1 },
                              stderrFile: scratch.path + "/\(name).log")
    }

    /// What the replica logged so far.
    func log(_ name: String) -> String { (try? String(contentsOfFile: scratch.path + "/\(name).log", encoding: .utf8)) ?? "" }

    /// `psql`'s unaligned answer from the run store's database.
    func sql(_ query: String) throws -> String { try server.psql(query, database: databaseName) }
}
