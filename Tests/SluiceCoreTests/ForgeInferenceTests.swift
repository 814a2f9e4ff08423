import Testing
import SluiceCore

/// A watched repository's forge is inferred from github.com / gitlab.com URLs, in every URL shape.
@Suite struct ForgeInferenceTests {
    @Test(arguments: [
        ("https://github.com/acme/iris.git", ForgeKind.github, "acme/iris"),
        ("https://x-access-token@github.com/acme/iris", .github, "acme/iris"),
        ("git@github.com:acme/iris.git", .github, "acme/iris"),
        ("ssh://git@github.com/acme/iris.git", .github, "acme/iris"),
        ("https://gitlab.com/acme/ml/iris.git/", .gitlab, "acme/ml/iris"),
        ("git@gitlab.com:acme/ml/iris.git", .gitlab, "acme/ml/iris"),
    ])
    func infersTheForgeAndProject(url: String, kind: ForgeKind, project: String) {
        #expect(ControllerConfig.Forge.inferred(from: url) == ControllerConfig.Forge(kind: kind, project: project))
    }

    @Test(arguments: ["https://gitea.example.com/acme/iris.git", "/srv/git/iris", "file:///srv/git/iris", "https://github.com/acme"])
    func infersNothingElsewhere(url: String) {
        #expect(ControllerConfig.Forge.inferred(from: url) == nil)
    }

    @Test func theRepositorysSettingsOverrideTheEnvironmentAndTheTokenComesFromItsVariable() {
        let forge = ControllerConfig.Forge(kind: .gitea, project: "acme/iris", api: "https://gitea.example.com/api/v1", tokenEnv: "IRIS_FORGE_TOKEN")
        let env = forge.environment(over: ["SLUICE_FORGE": "github", "SLUICE_FORGE_TOKEN": "global", "IRIS_FORGE_TOKEN": "t", "PATH": "/bin"])
        #expect(env["SLUICE_FORGE"] == "gitea" && env["SLUICE_FORGE_PROJECT"] == "acme/iris" && env["SLUICE_FORGE_TOKEN"] == "t")
        #expect(env["SLUICE_FORGE_API"] == "https://gitea.example.com/api/v1" && env["PATH"] == "/bin")
    }
}
