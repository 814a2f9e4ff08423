import FoundationEssentials
import SluiceCore
#if canImport(Glibc)
import Glibc
#endif

/// Files in a run's workspace that Sluice itself reads (metrics, data, schemas): resolved
/// inside the workspace, so a symbolic link a repository or a stage made to a file outside it
/// (`data.csv -> /etc/passwd`) is refused, and small files are read with a size limit.
enum WorkspaceFile {
    /// Metrics, schema and policy files: far larger is not a metrics file but a mistake or an attack.
    static let sizeLimit = 16 << 20

    /// The real path of `relative` inside `workspace`; a missing file keeps its plain path
    /// (the reader reports it); one that resolves outside the workspace is refused.
    static func resolve(_ relative: String, in workspace: String) throws(LoadError) -> String {
        let plain = workspace + "/" + relative
        guard let root = realPath(workspace) else { return plain }
        guard let real = realPath(plain) else { return plain }
        guard real == root || real.hasPrefix(root + "/") else {
            throw LoadError(message: "'\(relative)' is a symbolic link to \(real), outside the repository; Sluice does not read files outside it",
                            hint: "commit or write the file itself instead of a link to it")
        }
        return real
    }

    /// Reads a small file inside the workspace: at most `sizeLimit` bytes; nil when it is missing.
    static func read(_ relative: String, in workspace: String, what: String) throws(LoadError) -> [UInt8]? {
        let path = try resolve(relative, in: workspace)
        return try readLimited(path, shownAs: relative, what: what)
    }

    /// Reads at most `sizeLimit` bytes of `path`, refusing a larger file before reading it.
    static func readLimited(_ path: String, shownAs name: String, what: String) throws(LoadError) -> [UInt8]? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        guard Int(info.st_size) <= sizeLimit else {
            throw LoadError(message: "\(what) '\(name)' is \(info.st_size) bytes; Sluice reads \(what) files of at most \(sizeLimit >> 20) MB",
                            hint: "write only the numbers the gate needs")
        }
        return FileManager.default.contents(atPath: path).map { [UInt8]($0) }
    }

    private static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}
