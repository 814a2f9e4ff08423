public import Crypto
import FoundationEssentials

/// What a third party can check about a model version without Sluice's database, as in-toto
/// Statements (v1) in DSSE envelopes signed with the gate's key: SLSA provenance v1 (the model's
/// files from the commit, the data versions and the run that built them), and the gate's own
/// statement (`https://sluice.dev/gate/v1`: the policy, each rule's result, the verdict).
public enum Attestations {
    public static let provenanceType = "https://slsa.dev/provenance/v1"
    public static let gateType = "https://sluice.dev/gate/v1"
    public static let buildType = "https://sluice.dev/pipeline/v1"
    public static let approvalType = "https://sluice.dev/approval/v1"

    /// A person's approval of a version into an environment (`promote: manual`).
    public struct Approval: Sendable {
        public var model: String
        public var version: String
        public var environment: String
        public var actor: String
        public var reason: String
        public var at: Double

        public init(model: String, version: String, environment: String, actor: String, reason: String, at: Double) {
            self.model = model
            self.version = version
            self.environment = environment
            self.actor = actor
            self.reason = reason
            self.at = at
        }
    }

    /// One input of the build other than the source commit: a dataset, a stage's image.
    public struct Dependency: Sendable, Hashable {
        public var name: String
        /// Algorithm (`gitBlob`, `gitTree`, `md5`, `sha256`) -> value, as in-toto's DigestSet.
        public var digest: [String: String]
        public var uri: String?

        public init(name: String, digest: [String: String], uri: String?) {
            self.name = name
            self.digest = digest
            self.uri = uri.map(RepositoryURL.withoutCredentials)
        }
    }

    public struct Build: Sendable {
        public var repository: String
        public var ref: String?
        public var commit: String
        public var specFile: String
        /// The datasets with their versions, and the images stages ran in.
        public var dependencies: [Dependency]
        public var builder: String
        public var run: Int64
        public var startedAt: Double?
        public var finishedAt: Double?

        public init(repository: String, ref: String?, commit: String, specFile: String, dependencies: [Dependency], builder: String,
                    run: Int64, startedAt: Double?, finishedAt: Double?) {
            self.repository = RepositoryURL.withoutCredentials(repository)
            self.ref = ref
            self.commit = commit
            self.specFile = specFile
            self.dependencies = dependencies
            self.builder = builder
            self.run = run
            self.startedAt = startedAt
            self.finishedAt = finishedAt
        }
    }

    static func subjects(_ files: [ModelSignature.File]) -> JSON {
        .array(files.sorted { $0.path < $1.path }.map { .object(["name": .string($0.path), "digest": .object(["sha256": .string($0.sha256)])]) })
    }

    static func time(_ t: Double?) -> JSON { t.map { .string(Date(timeIntervalSince1970: $0).formatted(.iso8601)) } ?? .null }

    /// The SLSA provenance statement of a model's files.
    public static func provenance(files: [ModelSignature.File], build: Build) -> [UInt8] {
        var dependencies: [JSON] = [.object(["uri": .string("git+\(build.repository)" + (build.ref.map { "@\($0)" } ?? "")),
                                             "digest": .object(["gitCommit": .string(build.commit)])])]
        for d in build.dependencies {
            var entry: [String: JSON] = ["name": .string(d.name), "digest": .object(d.digest.mapValues(JSON.string))]
            entry["uri"] = d.uri.map(JSON.string)
            dependencies.append(.object(entry))
        }
        var external: [String: JSON] = ["repository": .string(build.repository), "commit": .string(build.commit), "spec": .string(build.specFile)]
        external["ref"] = build.ref.map(JSON.string)
        return JSON.object([
            "_type": .string("https://in-toto.io/Statement/v1"),
            "subject": subjects(files),
            "predicateType": .string(provenanceType),
            "predicate": .object([
                "buildDefinition": .object(["buildType": .string(buildType), "externalParameters": .object(external),
                                            "resolvedDependencies": .array(dependencies)]),
                "runDetails": .object(["builder": .object(["id": .string(build.builder)]),
                                       "metadata": .object(["invocationId": .string("run \(build.run)"), "startedOn": time(build.startedAt),
                                                            "finishedOn": time(build.finishedAt)])]),
            ]),
        ]).encoded()
    }

    /// The gate's statement about the same files: the policy (path and digest), each rule with
    /// the candidate's and production's values, and the verdict.
    public static func gate(files: [ModelSignature.File], report: GateReport) -> [UInt8] {
        func number(_ v: Double?) -> JSON { v.map(JSON.number) ?? .null }
        let rules: [JSON] = report.metrics.map { row in
            .object(["metric": .string(row.metric), "slice": row.slice.map(JSON.string) ?? .null, "candidate": number(row.candidate),
                     "production": number(row.production), "rule": .string(row.rule), "passed": .bool(row.passed), "reason": .string(row.reason)])
        }
        var predicate: [String: JSON] = [
            "model": .string(report.model), "run": .int(Int(clamping: report.run)), "commit": .string(report.commit),
            "policy": .object(["path": .string(report.policy), "digest": report.policyDigest.map(JSON.string) ?? .null]),
            "rules": .array(rules), "verdict": .string(report.decision.rawValue), "passed": .bool(report.passed),
        ]
        predicate["production"] = report.production.map { .object(["version": .string($0.version), "commit": .string($0.commit)]) }
        return JSON.object(["_type": .string("https://in-toto.io/Statement/v1"), "subject": subjects(files),
                            "predicateType": .string(gateType), "predicate": .object(predicate)]).encoded()
    }

    /// Who let the same files into an environment, and why.
    public static func approval(files: [ModelSignature.File], _ a: Approval) -> [UInt8] {
        JSON.object(["_type": .string("https://in-toto.io/Statement/v1"), "subject": subjects(files), "predicateType": .string(approvalType),
                     "predicate": .object(["model": .string(a.model), "version": .string(a.version), "environment": .string(a.environment),
                                           "approvedBy": .string(a.actor), "reason": .string(a.reason), "approvedOn": time(a.at)])]).encoded()
    }

    /// A DSSE envelope (JSON) around `statement`, signed with `key`.
    public static func envelope(_ statement: [UInt8], key: P256.Signing.PrivateKey, keyID: String) throws -> String {
        let signature = try key.signature(for: ModelSignature.pae(statement))
        return String(decoding: JSON.object([
            "payloadType": .string(ModelSignature.payloadType),
            "payload": .string(Data(statement).base64EncodedString()),
            "signatures": .array([.object(["keyid": .string(keyID), "sig": .string(signature.derRepresentation.base64EncodedString())])]),
        ]).encoded(), as: UTF8.self)
    }
}
