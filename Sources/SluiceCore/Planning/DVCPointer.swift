/// Reads the data versions DVC records, from parsed `.dvc` and `dvc.lock` files.
/// The version is DVC's own hash string (`md5`, or `etag` for cloud imports), so a
/// Sluice data version equals what `dvc status` compares.
public enum DVCPointer {
    /// The hash of the first `outs` entry of a `.dvc` file (`md5: ...`, with `.dir`
    /// for folders; both the `hash: md5` (DVC 3) and the legacy form).
    public static func version(ofPointer document: Node?, file: String) throws(Diagnostic) -> String {
        let start = SourceLocation(file: file, line: 1, column: 1)
        guard let document, let outs = document["outs"]?.sequence, let first = outs.first else {
            throw Diagnostic.error(at: document?.location ?? start, "'\(file)' has no 'outs' entry",
                                   hint: "is it a DVC pointer? create one with 'dvc add <path>'")
        }
        return try hash(of: first, file: file)
    }

    /// The hash recorded for `path` in a `dvc.lock`, as a dependency or an output of any stage.
    public static func version(inLock document: Node?, path: String, file: String) throws(Diagnostic) -> String {
        let start = SourceLocation(file: file, line: 1, column: 1)
        guard let stages = document?["stages"]?.mapping else {
            throw Diagnostic.error(at: document?.location ?? start, "'\(file)' has no 'stages' mapping", hint: "is it a dvc.lock file?")
        }
        let wanted = RepositoryPath.normalized(path)
        for pair in stages {
            for section in ["outs", "deps"] {
                for entry in pair.value[section]?.sequence ?? [] where entry["path"]?.string.map(RepositoryPath.normalized) == wanted {
                    return try hash(of: entry, file: file)
                }
            }
        }
        throw Diagnostic.error(at: document!.location, "'\(file)' records no path '\(path)'",
                               hint: "run 'dvc repro' so the lock file records it, or fix 'out' in sluice.yaml")
    }

    /// The repository path and md5 a `.dvc` pointer's first output records (the path is
    /// relative to the pointer's folder in the file; returned relative to the repository).
    public static func output(ofPointer document: Node?, file: String) throws(Diagnostic) -> (path: String, md5: String) {
        let md5 = try version(ofPointer: document, file: file)
        guard let relative = document?["outs"]?.sequence?.first?["path"]?.string, !relative.isEmpty else {
            throw Diagnostic.error(at: document?.location ?? SourceLocation(file: file, line: 1, column: 1), "'\(file)' names no output path")
        }
        let folder = file.contains("/") ? String(file[..<file.lastIndex(of: "/")!]) : ""
        return (RepositoryPath.normalized(folder.isEmpty ? relative : folder + "/" + relative), md5)
    }

    /// Where DVC keeps the object of `md5` under a cache or remote root: DVC 3's
    /// `files/md5/ab/cdef…`, then DVC 2's `ab/cdef…` (a folder's md5 ends in `.dir`).
    public static func objectPaths(md5: String) -> [String] {
        guard md5.count > 2, md5.allSatisfy({ $0.isHexDigit || $0 == "." || $0.isLetter }) else { return [] }
        let head = md5.prefix(2), rest = md5.dropFirst(2)
        return ["files/md5/\(head)/\(rest)", "\(head)/\(rest)"]
    }

    /// The URL of the default remote in a `.dvc/config` (`[core] remote = name`, then
    /// `['remote "name"'] url = ...`), or nil.
    public static func defaultRemoteURL(config: String) -> String? {
        var section = ""
        var remote: String?
        var urls: [String: String] = [:]
        for raw in config.split(separator: "\n", omittingEmptySubsequences: true) {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.hasPrefix("#") || line.hasPrefix(";") || line.isEmpty { continue }
            if line.hasPrefix("[") && line.hasSuffix("]") {
                section = String(line.dropFirst().dropLast()).replacing("'", with: "").trimmingCharacters(in: .whitespaces)
                continue
            }
            let parts = line.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2 else { continue }
            if section == "core", parts[0] == "remote" { remote = parts[1] }
            if section.hasPrefix("remote \""), section.hasSuffix("\""), parts[0] == "url" {
                urls[String(section.dropFirst(8).dropLast())] = parts[1]
            }
        }
        return remote.flatMap { urls[$0] }
    }

    static func hash(of entry: Node, file: String) throws(Diagnostic) -> String {
        for key in ["md5", "etag", "checksum"] {
            if let value = entry[key]?.string, !value.isEmpty { return value }
        }
        throw Diagnostic.error(at: entry.location, "DVC entry in '\(file)' has no md5 or etag",
                               hint: "run 'dvc commit' to record the hash")
    }
}
