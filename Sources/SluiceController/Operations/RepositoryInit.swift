import Foundation
import SluiceCore
import SluiceYAML

/// `sluice init`: looks at a repository and writes a first `sluice.yaml`, a promotion policy
/// and, for each data file, a `validate-data` schema inferred from the data, so that
/// `sluice validate` accepts them at once and the first run's data validation passes on the
/// data as it is. Nothing is overwritten unless asked.
public enum RepositoryInit {
    /// A file written, and what it holds in words.
    public struct Written: Sendable, Hashable {
        public var path: String
        public var summary: String
    }

    public struct Result: Sendable {
        public var written: [Written]
        /// What was guessed or not found, and what to do about it.
        public var notes: [String]
    }

    public struct Refusal: Error, Sendable, CustomStringConvertible {
        public var existing: [String]
        public var description: String {
            "\(existing.joined(separator: ", ")) already exist\(existing.count == 1 ? "s" : ""); sluice init does not overwrite them (use --force to replace them)"
        }
    }

    /// Folders never searched: tools' caches and environments, and DVC's own.
    static let skipped: Set<String> = [".git", ".venv", "venv", "env", "node_modules", "__pycache__", ".dvc", ".pytest_cache", ".ruff_cache",
                                       ".mypy_cache", ".tox", "dist", "build", "site-packages", ".sluice"]
    /// At most this many files are looked at.
    static let fileLimit = 50_000

    /// - Parameters:
    ///   - root: the repository's folder.
    ///   - model: the model's name (default: the folder's name).
    ///   - force: replace files that exist.
    public static func run(root: String, model: String?, force: Bool) throws -> Result {
        let root = RepositorySource.stateLocation(root)
        guard FileManager.default.fileExists(atPath: root + "/.git") || FileManager.default.fileExists(atPath: root) else {
            throw LoadError(message: "no folder \(root)")
        }
        var notes: [String] = []
        let files = try listFiles(root, notes: &notes)
        var facts = RepositoryFacts(model: model ?? modelName(root))
        detectPython(root, files, &facts)
        facts.manifests = ["manifests", "k8s", "deploy", "kubernetes"].first { folder in
            files.contains { $0.hasPrefix(folder + "/") && ($0.hasSuffix(".yaml") || $0.hasSuffix(".yml")) }
        }
        var schemas: [(path: String, text: String, summary: String)] = []
        for (data, md5) in dataFiles(root, files, notes: &notes) {
            switch profile(root: root, data, md5: md5) {
            case .success(let (profiles, rows, from)):
                facts.dataFiles.append(data)
                schemas.append((data.schema, SchemaInference.yaml(columns: profiles, rows: rows, file: data.path),
                                "\(profiles.count) column\(profiles.count == 1 ? "" : "s") inferred from \(from) (\(rows) rows)"))
            case .failure(let why):
                notes.append("\(data.path): no schema written (\(why.message)); declare its dataset and a validate-data stage by hand, or run sluice init --force once it can be read")
            }
        }
        if facts.trainScript == nil { notes.append("no train.py found: sluice.yaml has a commented train stage to fill in") }
        if facts.metrics.isEmpty, facts.trainScript != nil || facts.evaluateScript != nil {
            notes.append("no metric name recognised in the training or evaluation code: the policy gates on 'accuracy'; name the metrics your \(StarterSpec.metricsFile) holds")
        }
        let spec = StarterSpec.sluiceYAML(facts)
        var outputs = [(CommitPlanner.specFile, spec, stagesSummary(facts))]
        if spec.contains("\ngate:\n") {
            outputs.append((StarterSpec.policyPath, StarterSpec.policyYAML(facts),
                            "gates on " + (facts.metrics.isEmpty ? "accuracy (a placeholder)" : facts.metrics.map(\.name).joined(separator: ", "))))
        }
        outputs += schemas.map { ($0.path, $0.text, $0.summary) }
        let existing = outputs.map(\.0).filter { FileManager.default.fileExists(atPath: root + "/" + $0) }
        if !existing.isEmpty, !force { throw Refusal(existing: existing) }
        var written: [Written] = []
        for (path, text, summary) in outputs {
            let full = root + "/" + path
            try FileManager.default.createDirectory(atPath: String(full[..<full.lastIndex(of: "/")!]), withIntermediateDirectories: true)
            guard FileManager.default.createFile(atPath: full, contents: Data(text.utf8)) else {
                throw LoadError(message: "cannot write \(full)")
            }
            written.append(Written(path: path, summary: summary))
        }
        return Result(written: written, notes: notes)
    }

    private static func stagesSummary(_ facts: RepositoryFacts) -> String {
        var stages: [String] = []
        if facts.lintFolders != nil { stages.append("lint") }
        if facts.testFolder != nil { stages.append("test") }
        for d in facts.dataFiles { stages += (d.dvcPointer == nil ? [] : ["fetch-\(d.name)"]) + ["validate-\(d.name)"] }
        if facts.trainScript != nil { stages.append("train") }
        if facts.evaluateScript != nil { stages.append("evaluate") }
        return "stages " + (stages.isEmpty ? "(none found)" : stages.joined(separator: ", ")) + (facts.manifests.map { "; deploys \($0)/" } ?? "")
    }

    /// The repository's files (relative paths), without the skipped folders and the folder of a
    /// DVC remote kept inside the repository.
    static func listFiles(_ root: String, notes: inout [String]) throws -> [String] {
        var skip = skipped.map { "/" + $0 + "/" }
        if let remote = DVCLocalObjects.roots(workspace: root).remote, !remote.contains("://"), !remote.hasPrefix("/") {
            skip.append("/" + RepositoryPath.normalized(".dvc/" + remote) + "/")
        }
        guard let walker = FileManager.default.enumerator(atPath: root) else { throw LoadError(message: "cannot read the folder \(root)") }
        var files: [String] = []
        while let next = walker.nextObject() as? String {
            let path = "/" + next + "/"
            if skip.contains(where: { path.contains($0) }) { continue }
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: root + "/" + next, isDirectory: &isFolder), !isFolder.boolValue else { continue }
            files.append(next)
            if files.count >= fileLimit {
                notes.append("only the first \(fileLimit) files were looked at")
                break
            }
        }
        return files.sorted()
    }

    static func modelName(_ root: String) -> String {
        let name = String(root.split(separator: "/").last ?? "model")
        let cleaned = String(name.lowercased().map { $0.isLetter || $0.isNumber ? $0 : "-" })
        return cleaned.isEmpty ? "model" : cleaned
    }

    private static func detectPython(_ root: String, _ files: [String], _ facts: inout RepositoryFacts) {
        func text(_ path: String) -> String? { FileManager.default.contents(atPath: root + "/" + path).map { String(decoding: $0, as: UTF8.self) } }
        let shallowest: (String) -> String? = { name in files.filter { $0 == name || $0.hasSuffix("/" + name) }.min { $0.count < $1.count } }
        if files.contains("ruff.toml") || files.contains(".ruff.toml") || (text("pyproject.toml")?.contains("[tool.ruff") ?? false) {
            let folders = ["src", "tests"].filter { f in files.contains { $0.hasPrefix(f + "/") && $0.hasSuffix(".py") } }
            facts.lintFolders = folders.isEmpty ? ["."] : folders
        }
        let testFiles = files.filter { path in
            let name = path.split(separator: "/").last.map(String.init) ?? path
            return name.hasSuffix(".py") && (name.hasPrefix("test_") || name.hasSuffix("_test.py"))
        }
        if let first = testFiles.min(by: { $0.count < $1.count }) {
            let folder = first.split(separator: "/").dropLast().joined(separator: "/")
            facts.testFolder = folder.isEmpty ? "." : folder
        }
        facts.trainScript = shallowest("train.py")
        facts.evaluateScript = shallowest("evaluate.py") ?? shallowest("eval.py")
        if files.contains("params.yaml") { facts.paramsFile = "params.yaml" }
        for script in [facts.evaluateScript, facts.trainScript].compactMap({ $0 }) {
            let found = RepositoryFacts.metrics(inSource: text(script) ?? "")
            if !found.isEmpty { facts.metrics = found; break }
        }
    }

    /// CSV and JSON-lines files in git, and the files DVC pointers track; not test fixtures.
    static func dataFiles(_ root: String, _ files: [String], notes: inout [String]) -> [(RepositoryFacts.DataFile, md5: String?)] {
        var found: [(RepositoryFacts.DataFile, md5: String?)] = []
        var names: Set<String> = []
        func add(_ path: String, pointer: String?, md5: String? = nil) {
            let base = String((path.split(separator: "/").last ?? Substring(path)).split(separator: ".").first ?? "data")
            var name = base.lowercased().map { $0.isLetter || $0.isNumber ? String($0) : "-" }.joined()
            if names.contains(name) { name += "-\(names.count + 1)" }
            names.insert(name)
            found.append((.init(name: name, path: path, dvcPointer: pointer, schema: "schemas/\(name).yaml"), md5))
        }
        let isTest: (String) -> Bool = { $0.split(separator: "/").contains { $0 == "tests" || $0 == "test" } }
        for pointer in files where pointer.hasSuffix(".dvc") && !isTest(pointer) {
            guard let bytes = FileManager.default.contents(atPath: root + "/" + pointer) else { continue }
            do {
                let output = try DVCPointer.output(ofPointer: try YAMLParser.parseDocument([UInt8](bytes), file: pointer), file: pointer)
                if output.md5.hasSuffix(".dir") {
                    notes.append("\(pointer) tracks a folder: declared as a dataset; point a validate-data stage at a file in it by hand")
                    continue
                }
                add(output.path, pointer: pointer, md5: output.md5)
            } catch let e as Diagnostic {
                notes.append("\(pointer): not read (\(e.message))")
            } catch {
                notes.append("\(pointer): not read (\(error))")
            }
        }
        let tracked = Set(found.map(\.0.path))
        for path in files where (path.hasSuffix(".csv") || path.hasSuffix(".jsonl") || path.hasSuffix(".ndjson")) && !isTest(path) && !tracked.contains(path) {
            add(path, pointer: nil)
        }
        return found
    }

    struct Unreadable: Error { var message: String }

    /// Each column's profile, the rows read and where from (the file, or DVC's copy of it).
    static func profile(root: String, _ data: RepositoryFacts.DataFile, md5: String?) -> Swift.Result<([ColumnProfile], Int, String), Unreadable> {
        var source = root + "/" + data.path
        var from = data.path
        if !FileManager.default.fileExists(atPath: source), let md5 {
            guard let object = DVCLocalObjects.path(md5: md5, in: DVCLocalObjects.roots(workspace: root).folders) else {
                return .failure(Unreadable(message: "it is neither in the working tree nor in DVC's cache or folder remote: run dvc pull"))
            }
            source = object
            from = "\(data.path) (DVC's copy, md5 \(md5.prefix(8))…)"
        }
        do {
            let (profiles, rows) = try DataProfiler.profile(path: source, jsonLines: !data.path.hasSuffix(".csv"))
            guard !profiles.isEmpty else { return .failure(Unreadable(message: "it has no columns")) }
            return .success((profiles, rows, from))
        } catch {
            return .failure(Unreadable(message: "\(error)"))
        }
    }
}
