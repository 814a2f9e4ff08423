import FoundationEssentials
public import SluiceCore
public import SluiceGit
import SluiceYAML

/// Renders a commit's `manifests/` templates with a model's facts into Kubernetes
/// objects, and into deterministic YAML (same input, same bytes).
public enum ManifestRenderer {
    static let extensions = [".yaml", ".yml", ".json", ".mustache"]

    public static func render(commit: GitCommit, deploy: DeploySpec, facts: DeployFacts, environment: [String: String] = [:]) throws(DiagnosticsError) -> [ManifestObject] {
        if let kustomization = KustomizeRenderer.kustomization(in: commit, folder: deploy.manifests) {
            return try KustomizeRenderer.render(commit: commit, deploy: deploy, facts: facts, kustomization: kustomization, environment: environment)
        }
        let files = commit.files(under: deploy.manifests).map(\.path).filter { p in extensions.contains { p.hasSuffix($0) } }.sorted()
        if files.isEmpty {
            throw DiagnosticsError([.error(at: deploy.location, "no manifest templates (*.yaml, *.yml, *.json, *.mustache) under '\(deploy.manifests)' in commit \(CommitID(commit.id).short)")])
        }
        var objects: [ManifestObject] = []
        var problems: [Diagnostic] = []
        for file in files {
            let text = String(decoding: commit.contents(at: file) ?? [], as: UTF8.self)
            do throws(DiagnosticsError) {
                objects += try render(text, file: file, deploy: deploy, facts: facts)
            } catch {
                problems += error.diagnostics
            }
        }
        if !problems.isEmpty { throw DiagnosticsError(problems) }
        var seen: [String: String] = [:]
        for o in objects {
            if let other = seen[o.fileName] {
                problems.append(.error(at: o.node.location, "\(o.displayName) is defined twice (also in \(other))"))
            }
            seen[o.fileName] = o.source
        }
        if !problems.isEmpty { throw DiagnosticsError(problems) }
        return objects.sorted { $0.fileName < $1.fileName }
    }

    public static func render(_ text: String, file: String, deploy: DeploySpec, facts: DeployFacts) throws(DiagnosticsError) -> [ManifestObject] {
        let rendered = try ManifestTemplate.render(text, file: file, facts: facts)
        let documents: [Node]
        do throws(YAMLError) {
            documents = try YAMLParser.parseStream(Array(rendered.utf8), file: file + " (rendered)")
        } catch {
            throw DiagnosticsError([.error(at: error.diagnostic.location, "the template renders to invalid YAML: \(error.diagnostic.message)",
                                           hint: "check the lines around it after substitution (`sluice render` prints the output)")])
        }
        return try objects(documents, source: file, deploy: deploy)
    }

    /// The objects of parsed YAML documents (empty documents skipped), with Sluice's labels.
    static func objects(_ documents: [Node], source: String, deploy: DeploySpec) throws(DiagnosticsError) -> [ManifestObject] {
        var objects: [ManifestObject] = []
        var problems: [Diagnostic] = []
        for document in documents where !document.isNull {
            do throws(DiagnosticsError) {
                objects.append(try ManifestObject.make(document, source: source, environment: deploy.environment, namespace: deploy.namespace))
            } catch {
                problems += error.diagnostics
            }
        }
        if !problems.isEmpty { throw DiagnosticsError(problems) }
        return objects
    }

    /// One YAML document per object, in file-name order.
    public static func yaml(_ objects: [ManifestObject]) throws -> String {
        try YAMLEmitter.emit(objects.map(\.node))
    }

    /// Each object as its own file (for the environment branch).
    public static func files(_ objects: [ManifestObject]) throws -> [(path: String, content: String)] {
        try objects.map { ($0.fileName, try YAMLEmitter.emit($0.node)) }
    }
}
