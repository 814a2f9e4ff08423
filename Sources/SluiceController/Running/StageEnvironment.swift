public import SluiceCore

/// The environment a stage process sees, and the secrets to mask in what it prints.
public struct StageEnvironment: Sendable {
    public var variables: [String: String]
    public var masker: SecretMasker

    /// Controller variables that never reach a stage (Sluice's own credentials).
    static let withheld: Set<String> = ["SLUICE_GIT_TOKEN", "SLUICE_GIT_USERNAME", "SLUICE_GIT_SSH_KEY", "SLUICE_GIT_KNOWN_HOSTS"]
    /// Variables whose values are masked even if no stage declares them as secrets.
    static let secretSuffixes = ["TOKEN", "SECRET", "PASSWORD", "PASS", "KEY", "CREDENTIALS"]

    /// - Parameters:
    ///   - controller: Sluice's own environment. Stages inherit it (as CI runners do),
    ///     minus Sluice's git credentials and other `SLUICE_*` settings.
    public init(stage: StageSpec, controller: [String: String], commit: String, ref: String?, runID: Int64,
                workspace: String, datasetVersions: [String: String]) {
        var env = controller.filter { !$0.key.hasPrefix("SLUICE_") }
        for kv in stage.env { env[kv.key] = kv.value }
        env["SLUICE_COMMIT"] = commit
        env["SLUICE_REF"] = ref ?? ""
        env["SLUICE_RUN_ID"] = String(runID)
        env["SLUICE_STAGE"] = stage.name
        env["SLUICE_WORKSPACE"] = workspace
        for (name, version) in datasetVersions {
            env["SLUICE_DATASET_\(Self.variableName(name))_VERSION"] = version
        }
        if env["PATH"] == nil { env["PATH"] = "/usr/local/bin:/usr/bin:/bin" }
        var secrets = stage.secrets.compactMap { controller[$0] }
        secrets += controller.filter { kv in
            Self.withheld.contains(kv.key) || Self.secretSuffixes.contains { kv.key.uppercased().hasSuffix($0) }
        }.map(\.value)
        variables = env
        masker = SecretMasker(secrets: secrets)
    }

    /// `iris-v2` -> `IRIS_V2`.
    static func variableName(_ name: String) -> String {
        String(name.uppercased().map { $0.isLetter || $0.isNumber ? $0 : "_" })
    }
}
