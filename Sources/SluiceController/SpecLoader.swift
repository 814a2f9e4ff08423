import FoundationEssentials
public import SluiceCore
import SluiceYAML

/// Reads a `sluice.yaml` (from disk or from bytes taken out of a commit), parses it
/// with libyaml and decodes it, returning every located problem at once.
public enum SpecLoader {
    public struct Result: Sendable {
        public var spec: PipelineSpec?
        public var diagnostics: [Diagnostic]
    }

    /// - Parameters:
    ///   - bytes: the file's content.
    ///   - file: the name shown in diagnostics.
    ///   - paths: where referenced files are looked up; nil skips those checks.
    public static func load(bytes: [UInt8], file: String, paths: (any PathLookup)?) -> Result {
        let document: Node?
        do throws(YAMLError) {
            document = try YAMLParser.parseDocument(bytes, file: file)
        } catch {
            return Result(spec: nil, diagnostics: [error.diagnostic])
        }
        let decoded = SpecDecoder.decode(document, file: file, paths: paths)
        return Result(spec: decoded.spec, diagnostics: decoded.diagnostics)
    }

    /// Loads a spec file from disk, checking referenced paths against `repositoryRoot`.
    public static func load(path: String, repositoryRoot: String?, displayName: String? = nil) throws(LoadError) -> Result {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw LoadError(message: "cannot read '\(path)': no such file or not readable",
                            hint: "run in a repository with a sluice.yaml, or pass its path")
        }
        let lookup = repositoryRoot.map { FileSystemPathLookup(root: $0) }
        return load(bytes: [UInt8](data), file: displayName ?? path, paths: lookup)
    }
}
