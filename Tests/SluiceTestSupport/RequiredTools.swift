import Foundation

/// Tools the tests drive. Outside CI a missing one skips its tests, loudly; under `CI=true`
/// (the `.ci/run` that decides whether a change lands) those tests run anyway and fail, so a
/// broken install cannot give a green run.
public enum RequiredTools {
    public static var underCI: Bool { ProcessInfo.processInfo.environment["CI"] == "true" }

    /// Whether tests needing a tool run: when it is present, and always under CI.
    public static func run(whenPresent present: Bool) -> Bool { present || underCI }

    /// Every command-line tool some test starts.
    public static let commands = ["git", "curl", "openssl", "python3", "kubectl", "prometheus", "promtool", "mlflow", "moto_server", "dvc", "ssh-keygen", "gpg", "gpgv"]
}
