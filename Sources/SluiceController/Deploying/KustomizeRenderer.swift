import FoundationEssentials
public import SluiceCore
public import SluiceGit
import SluiceRunner
import SluiceYAML

/// A `deploy.manifests` folder with a `kustomization.yaml` is built by the real `kubectl
/// kustomize`: the templates of its top-level folder (e.g. all of `deploy/` for
/// `deploy/overlays/production`, so `../../base` resolves) are filled with the model's facts
/// first, written to a private folder, and kustomize's output becomes the objects.
public enum KustomizeRenderer {
    static let names = ["kustomization.yaml", "kustomization.yml", "Kustomization"]

    /// The kustomization file in `folder`, if any.
    public static func kustomization(in commit: GitCommit, folder: String) -> String? {
        let base = folder.hasSuffix("/") ? String(folder.dropLast()) : folder
        return names.map { base + "/" + $0 }.first { commit.contents(at: $0) != nil }
    }

    public static func render(commit: GitCommit, deploy: DeploySpec, facts: DeployFacts, kustomization: String,
                              environment: [String: String]) throws(DiagnosticsError) -> [ManifestObject] {
        let manifests = deploy.manifests.hasSuffix("/") ? String(deploy.manifests.dropLast()) : deploy.manifests
        let top = String(manifests.split(separator: "/").first ?? Substring(manifests))
        let folder = TemporaryFolder(under: FileManager.default.temporaryDirectory.path, prefix: "sluice-kustomize")
        defer { folder.remove() }
        let work = folder.path
        var problems: [Diagnostic] = []
        for file in commit.files(under: top).map(\.path) {
            guard let bytes = commit.contents(at: file) else { continue }
            var out = bytes
            if ManifestRenderer.extensions.contains(where: { file.hasSuffix($0) }) {
                do throws(DiagnosticsError) {
                    out = Array(try ManifestTemplate.render(String(decoding: bytes, as: UTF8.self), file: file, facts: facts).utf8)
                } catch {
                    problems += error.diagnostics
                    continue
                }
            }
            let target = work + "/" + file
            do {
                try FileManager.default.createDirectory(atPath: String(target[..<target.lastIndex(of: "/")!]), withIntermediateDirectories: true)
                try Data(out).write(to: URL(fileURLWithPath: target))
            } catch {
                throw DiagnosticsError([.error(at: deploy.location, "cannot prepare the kustomization for kubectl: \(error)")])
            }
        }
        if !problems.isEmpty { throw DiagnosticsError(problems) }
        let where_ = SourceLocation(file: kustomization, line: 1, column: 1)
        let result: Command.Result
        do {
            result = try Command.run(["kubectl", "kustomize", work + "/" + manifests], workingDirectory: work,
                                     environment: ["PATH": environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin", "HOME": work])
        } catch {
            throw DiagnosticsError([.error(at: where_, "cannot run kubectl kustomize: \(error)", hint: "install kubectl (it builds kustomizations) on the controller's PATH")])
        }
        guard result.status == 0 else {
            let message = result.stderr.replacing(work + "/", with: "").trimmingCharacters(in: .whitespacesAndNewlines)
            throw DiagnosticsError([.error(at: where_, "kubectl kustomize failed: \(message.isEmpty ? result.summary : message)")])
        }
        let documents: [Node]
        do throws(YAMLError) {
            documents = try YAMLParser.parseStream(Array(result.stdout.utf8), file: kustomization + " (built by kustomize)")
        } catch {
            throw DiagnosticsError([.error(at: where_, "kubectl kustomize printed invalid YAML: \(error.diagnostic.message)")])
        }
        return try ManifestRenderer.objects(documents, source: kustomization, deploy: deploy).sorted { $0.fileName < $1.fileName }
    }
}
