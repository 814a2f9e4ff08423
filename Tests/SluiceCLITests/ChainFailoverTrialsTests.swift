import Foundation
import Testing
import SluiceTestSupport

/// Kills the leader (`kill -9`) at random moments of an environment chain, trial after trial:
/// while a version soaks and waits for its approval into production, and while a canary steps
/// through its weights on Kubernetes. Two replicas on one PostgreSQL and one bucket (the S3
/// emulator) with the emulator's Lease (3 s), a new replica started for each one killed, one
/// better model committed per trial. Whatever
/// the moment, each step of each version happens once, production moves once per version and in
/// order, and each notification reaches the receiver under one delivery id (none lost, none doubled).
///
/// `SLUICE_FAILOVER_TRIALS` and `SLUICE_FAILOVER_SEED` as for `FailoverTrialsTests`.
@Suite struct ChainFailoverTrialsTests {
    enum ApprovalMoment: CaseIterable {
        case pipeline, admitted, stagingEntered, soaking, awaitingApproval, approved, inProduction
    }

    @Test(.enabled(if: RequiredTools.run(whenPresent: KubeEmulator.hasKubectl && S3Emulator.isInstalled), "kubectl or moto_server is not installed: SKIPPED"))
    func killingTheLeaderDuringSoaksAndApprovalsLosesAndRepeatsNothing() throws {
        var trials = FailoverTrials()
        let chain = EnvironmentChainTests()
        let repo = try chain.repository(EnvironmentChainTests.spec(production: "    promote: manual\n", staging: "    soak: 3s\n"))
        let receiver = try NotificationReceiver(secret: "hook-s3cret")
        let s3 = try S3Emulator(bucket: "approvals", checkingSignatures: true)
        let replicas = try Replicas(repository: repo.path, name: "demo", lease: "duration: 3s",
                                    settings: "token-env: SLUICE_TEST_API_TOKEN\n" + FailoverTrials.notifications)
        replicas.environment = try FailoverTrials.bucket(s3).merging(FailoverTrials.hook(receiver)) { $1 }.merging(["SLUICE_TEST_API_TOKEN": "t0ken"]) { $1 }
        let failovers = try Failovers(replicas)
        let steps = ChainSteps(replicas)
        /// Asks the replica that leads to approve `version` into production (an answer of the
        /// follower's 503, or none from a dying leader, is tried again by the caller's loop).
        func approve(_ version: String, in background: Bool = false) throws {
            let arguments = ["-s", "--max-time", "20", "-X", "POST", failovers.addresses[0] + "/api/models/demo/versions/\(version)/approve",
                             "-H", "Authorization: Bearer t0ken", "-H", "Content-Type: application/json",
                             "-d", #"{"to": "production", "reason": "trial", "actor": "ana"}"#]
            if background {
                let curl = Process()
                curl.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
                curl.arguments = arguments
                curl.standardOutput = FileHandle.nullDevice
                try curl.run()
            } else {
                _ = try ProcessRunner.run("curl", arguments)
            }
        }
        func approveWhenWaiting(_ version: String) throws {
            if try steps.contains("\(version) production awaiting-approval"), try !steps.contains("\(version) production approved") {
                try approve(version)
            }
        }

        var versions: [String] = [], commits: [String] = []
        for trial in 1...trials.count {
            let head = trial == 1 ? try repo.git(["rev-parse", "HEAD"]).trimmingCharacters(in: .whitespacesAndNewlines)
                : try repo.commit("model \(trial)", files: ["quality.json": GateFlowTests.quality(0.9 + 0.004 * Double(trial)),
                                                            "data/d.csv": GateFlowTests.data(trial)])
            commits.append(head)
            let moment = trials.draw(ApprovalMoment.self, trial: trial)
            let context = trials.context
            var approving = false
            let reached: () throws -> Bool = {
                let version = try steps.version(of: head)
                switch moment {
                case .pipeline: return try replicas.sql("SELECT count(*) FROM runs WHERE \"commit\" = '\(head)'") != "0\n"
                case .admitted: return version != nil
                case .stagingEntered: return try version.map { try steps.contains("\($0) staging entered") } ?? false
                case .soaking: return try version.map { try steps.contains("\($0) staging verified") } ?? false
                case .awaitingApproval: return try version.map { try steps.contains("\($0) production awaiting-approval") } ?? false
                case .approved:
                    guard let version, try steps.contains("\(version) production awaiting-approval") else { return false }
                    // Killed while the approval is taken: sent once, without waiting for its answer.
                    if !approving { try approve(version, in: true) }
                    approving = true
                    return try steps.contains("\(version) production approved")
                case .inProduction:
                    guard let version else { return false }
                    try approveWhenWaiting(version)
                    return try steps.contains("\(version) production entered")
                }
            }
            try waitUntil("trial \(trial)'s moment \(moment) (\(context))", timeout: 120, reached)
            try failovers.killLeader(context)
            // The new leader finishes the chain; the approval is given (again) when it waits for one.
            if let version = try steps.waitForProduction(of: head, trial: trial, failovers: failovers, context, nudge: approveWhenWaiting) {
                versions.append(version)
            }
        }
        let context = trials.context
        try steps.expectTaken(["staging admitted", "staging entered", "staging verified", "production awaiting-approval", "production approved",
                               "production entered"], onceBy: versions, context)
        try steps.expectEachOnce(context)
        try FailoverTrials.expectEachCommitRanOnce(commits, replicas: replicas, context)
        #expect(try FailoverTrials.promotions(replicas, context).map(\.version) == versions, "production moved to each version once, in order (\(context))")
        #expect(try chain.branch(repo, "production").contains("version: '\(versions.last ?? "?")'"), "\(context)")
        var expected: [String] = []
        for version in versions {
            expected += ["gate.promoted \(version)", "environment.entered \(version) staging", "environment.verified \(version) staging",
                         "environment.waiting-for-approval \(version) production", "environment.promoted \(version) production"]
        }
        try FailoverTrials.expectDeliveredOnce(expected, receiver: receiver, context)
        withExtendedLifetime(failovers) {}
    }

    enum CanaryMoment: CaseIterable {
        case pipeline, admitted, stagingEntered, firstWeight, secondWeight, inProduction
    }

    @Test(.enabled(if: RequiredTools.run(whenPresent: KubeEmulator.hasKubectl && PrometheusServer.isInstalled && S3Emulator.isInstalled),
                   "kubectl, prometheus or moto_server is not installed: SKIPPED"))
    func killingTheLeaderDuringCanariesLosesAndRepeatsNothing() throws {
        var trials = FailoverTrials()
        // Every version the trials can make serves 1 error in 1,000 requests: each canary passes its analysis.
        let exporter = try MetricsExporter((1...(trials.count * 2 + 2)).map { "requests_total{version=\"\($0)\"} 1000\nerrors_total{version=\"\($0)\"} 1\n" }.joined())
        let prometheus = try PrometheusServer(scraping: exporter.target)
        try prometheus.waitFor("errors_total{version=\"1\"}", value: "1")
        let repo = try EnvironmentChainTests().canaryRepository(pause: "2s")
        let receiver = try NotificationReceiver(secret: "hook-s3cret")
        let replicas = try Replicas(repository: repo.path, name: "demo", lease: "duration: 3s", settings: FailoverTrials.notifications)
        // The emulator takes server-side apply only, as Sluice writes.
        let created = try replicas.kube.kubectl(["apply", "--server-side", "-f", "-"], input: "apiVersion: v1\nkind: Namespace\nmetadata: { name: ml }\n")
        #expect(created.status == 0, "\(created.stderr)")
        let s3 = try S3Emulator(bucket: "canaries", checkingSignatures: true)
        replicas.environment = try FailoverTrials.bucket(s3).merging(FailoverTrials.hook(receiver)) { $1 }.merging(["PROMETHEUS_URL": prometheus.url]) { $1 }
        let failovers = try Failovers(replicas)
        let steps = ChainSteps(replicas)
        try waitUntil("version 1 in production", timeout: 120) { try steps.contains("1 production entered") }

        var versions = ["1"], commits: [String] = []
        for trial in 1...trials.count {
            let head = try repo.commit("model \(trial)", files: ["quality.json": GateFlowTests.quality(0.9 + 0.004 * Double(trial)),
                                                                 "data/d.csv": GateFlowTests.data(trial)])
            commits.append(head)
            let moment = trials.draw(CanaryMoment.self, trial: trial)
            let context = trials.context
            try waitUntil("trial \(trial)'s moment \(moment) (\(context))", timeout: 120) {
                let version = try steps.version(of: head)
                switch moment {
                case .pipeline: return try replicas.sql("SELECT count(*) FROM runs WHERE \"commit\" = '\(head)'") != "0\n"
                case .admitted: return version != nil
                case .stagingEntered: return try version.map { try steps.contains("\($0) staging entered") } ?? false
                case .firstWeight: return try version.map { try steps.contains("\($0) production canary 25 %") } ?? false
                case .secondWeight: return try version.map { try steps.contains("\($0) production canary 50 %") } ?? false
                case .inProduction: return try version.map { try steps.contains("\($0) production entered") } ?? false
                }
            }
            try failovers.killLeader(context)
            if let version = try steps.waitForProduction(of: head, trial: trial, failovers: failovers, context) { versions.append(version) }
        }
        let context = trials.context
        try steps.expectTaken(["staging admitted", "production canary 25 %", "production canary 50 %", "production entered"],
                              onceBy: Array(versions.dropFirst()), context)
        try steps.expectEachOnce(context)
        try FailoverTrials.expectEachCommitRanOnce(commits, replicas: replicas, context)
        #expect(try FailoverTrials.promotions(replicas, context).map(\.version) == versions, "production moved to each version once, in order (\(context))")
        let server = try replicas.kube.kubectl(["-n", "ml", "get", "deployment", "server", "-o", "jsonpath={.spec.template.metadata.annotations.sluice\\.dev/version}"])
        #expect(server.stdout == versions.last, "the stable Deployment serves the last version (\(context))")
        #expect(try !replicas.kube.kubectl(["-n", "ml", "get", "deployments", "-o", "name"]).stdout.contains("server-canary"), "no canary left (\(context))")
        var expected: [String] = []
        for version in versions.dropFirst() {
            expected += ["gate.promoted \(version)", "canary.step \(version) production 25 %", "canary.step \(version) production 50 %",
                         "environment.promoted \(version) production"]
        }
        try FailoverTrials.expectDeliveredOnce(expected, receiver: receiver, context)
        withExtendedLifetime((failovers, exporter)) {}
    }
}

/// The environment steps of the trials' store, as `version environment state detail` lines.
struct ChainSteps {
    let replicas: Replicas

    init(_ replicas: Replicas) { self.replicas = replicas }

    func all() throws -> [String] {
        try replicas.sql("SELECT version || ' ' || environment || ' ' || state || ' ' || detail FROM environment_steps ORDER BY id")
            .split(separator: "\n").map(String.init)
    }

    func contains(_ prefix: String) throws -> Bool { try all().contains { $0.hasPrefix(prefix) } }

    /// The version the gate gave `commit`'s model, once it entered the chain.
    func version(of commit: String) throws -> String? {
        let found = try replicas.sql("""
            SELECT DISTINCT s.version FROM environment_steps s JOIN runs r ON r.id = s.runId WHERE r."commit" = '\(commit)'
            """).split(separator: "\n").map(String.init)
        #expect(found.count <= 1, "one version per commit: \(found)")
        return found.first
    }

    /// Waits until `commit`'s version is in production and no run of the commit is left; `nudge`
    /// acts on the version on the way (an approval). Returns the version; on a time-out, the
    /// replicas' logs go into the failure.
    func waitForProduction(of commit: String, trial: Int, failovers: Failovers, _ context: String,
                           nudge: (String) throws -> Void = { _ in }) throws -> String? {
        var version: String?
        let finished = try waitUntil("trial \(trial)'s version in production (\(context))", timeout: 120) {
            version = try self.version(of: commit)
            guard let version else { return false }
            try nudge(version)
            return try contains("\(version) production entered")
                && replicas.sql("SELECT count(*) FROM runs WHERE \"commit\" = '\(commit)' AND status IN ('queued', 'running')") == "0\n"
        }
        if !finished { Issue.record("the replicas' logs:\n\(failovers.logTails())") }
        return version
    }

    /// Each of `steps` (`environment state [detail]`) taken exactly once by each of `versions`.
    func expectTaken(_ steps: [String], onceBy versions: [String], _ context: String) throws {
        let taken = try all()
        for version in versions {
            for step in steps {
                #expect(taken.filter { $0.hasPrefix("\(version) \(step)") }.count == 1, "\(version) \(step) once: \(taken) (\(context))")
            }
        }
    }

    /// No step of any version, in any environment, was taken twice.
    func expectEachOnce(_ context: String) throws {
        let doubled = try replicas.sql("""
            SELECT version || ' ' || environment || ' ' || state || ' ' || detail FROM environment_steps
            GROUP BY version, environment, state, detail HAVING count(*) > 1
            """)
        #expect(doubled.isEmpty, "steps taken twice: \(doubled) (\(context))")
    }

}
