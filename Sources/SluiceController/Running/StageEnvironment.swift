public import SluiceCore
import SluiceForge

/// The environment a stage process sees, and the secrets to mask in what it prints.
///
/// Stages get an allow-listed environment, not Sluice's own: what programs need to run
/// (`PATH`, `HOME`, locale, time zone, ...), the stage's `env`, the secrets it declares, and
/// the `SLUICE_*` facts of the run. Forge tokens, webhook secrets, registry credentials and
/// `KUBECONFIG` never reach a stage unless it declares them as `secrets`. Merge-request
/// pipelines get no declared secrets either, unless the controller allows it for the
/// repository (as GitHub Actions withholds secrets from pull requests from forks).
public struct StageEnvironment: Sendable {
    public var variables: [String: String]
    public var masker: SecretMasker
    /// Declared secrets that were withheld (a merge request), for the stage's log.
    public var withheld: [String] = []

    /// What a stage inherits from Sluice's environment.
    public static let inherited: Set<String> = ["PATH", "HOME", "USER", "LOGNAME", "SHELL", "TERM", "LANG", "LANGUAGE", "TZ", "TMPDIR",
                                         // Some processors need these for OpenBLAS (numpy) not to crash.
                                         "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"]
    /// Variables whose values are masked even if no stage declares them as secrets.
    static let secretSuffixes = ["TOKEN", "SECRET", "PASSWORD", "PASS", "KEY", "CREDENTIALS"]

    /// - Parameters:
    ///   - controller: Sluice's own environment; only the allow-listed part and declared secrets pass.
    ///   - secretsAllowed: whether declared secrets reach the stage (false for merge requests,
    ///     unless the controller configuration allows them).
    public init(stage: StageSpec, controller: [String: String], commit: String, ref: String?, runID: Int64,
                workspace: String, datasetVersions: [String: String], secretsAllowed: Bool = true) {
        var env = controller.filter { Self.inherited.contains($0.key) || $0.key.hasPrefix("LC_") }
        var withheld: [String] = []
        for name in stage.secrets {
            guard let value = controller[name] else { continue }
            if secretsAllowed { env[name] = value } else { withheld.append(name) }
        }
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
        variables = env
        masker = SecretMasker(secrets: stage.secrets.compactMap { controller[$0] } + Self.secretLooking(controller))
        self.withheld = withheld
    }

    /// What is masked in what the whole pipeline wrote: every stage's declared secrets and the
    /// controller's variables that look like secrets.
    static func masker(for spec: PipelineSpec, controller: [String: String]) -> SecretMasker {
        SecretMasker(secrets: Set(spec.stages.flatMap(\.secrets)).compactMap { controller[$0] } + secretLooking(controller))
    }

    /// Values of the controller's variables whose names say they are secrets (`*_TOKEN`, `*_KEY`, ...),
    /// and the run store's database URL with its password alone (a stage given the URL could print
    /// a connection string of its own making).
    static func secretLooking(_ controller: [String: String]) -> [String] {
        var values = controller.filter { kv in secretSuffixes.contains { kv.key.uppercased().hasSuffix($0) } }.map(\.value)
        if let url = controller[DatabaseSettings.environmentVariable], !url.isEmpty {
            values.append(url)
            if case .success(let settings) = Result(catching: { () throws(LoadError) in try DatabaseSettings.parse(url, what: "") }),
               let password = settings.password, !password.isEmpty {
                values.append(password)
            }
        }
        return values
    }

    /// Whether a ref's pipeline may see declared secrets: not a merge request's, unless allowed.
    public static func secretsAllowed(ref: String?, mergeRequestSecrets: Bool) -> Bool {
        guard let ref, MergeRequestRef.number(of: ref) != nil else { return true }
        return mergeRequestSecrets
    }

    /// `iris-v2` -> `IRIS_V2`.
    public static func variableName(_ name: String) -> String {
        String(name.uppercased().map { $0.isLetter || $0.isNumber ? $0 : "_" })
    }
}
