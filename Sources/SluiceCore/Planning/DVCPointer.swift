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

    static func hash(of entry: Node, file: String) throws(Diagnostic) -> String {
        for key in ["md5", "etag", "checksum"] {
            if let value = entry[key]?.string, !value.isEmpty { return value }
        }
        throw Diagnostic.error(at: entry.location, "DVC entry in '\(file)' has no md5 or etag",
                               hint: "run 'dvc commit' to record the hash")
    }
}
