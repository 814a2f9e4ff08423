import Foundation
import SluiceTestSupport

/// Controller replicas of one test: `sluice watch` processes of one configuration on one
/// PostgreSQL database and the emulator's Lease, each with a state folder of its own and its
/// log in `<scratch>/<name>.log`.
struct Replicas {
    let config: String
    let scratch: String
    /// `KUBECONFIG`, `SLUICE_DATABASE_URL` and what else every replica is given.
    let environment: [String: String]

    func start(_ name: String) throws -> BackgroundProcess {
        try BackgroundProcess(RepositoryLayout.sluiceBinary, ["watch", "--config", config, "--state", scratch + "/" + name],
                              readyPrefix: "sluice: listening on 127.0.0.1:",
                              environment: environment.merging(["POD_NAME": name, "POD_IP": "127.0.0.1"]) { $1 },
                              stderrFile: scratch + "/\(name).log")
    }

    /// What the replica logged so far.
    func log(_ name: String) -> String { (try? String(contentsOfFile: scratch + "/\(name).log", encoding: .utf8)) ?? "" }
}
