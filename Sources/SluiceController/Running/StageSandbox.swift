import FoundationEssentials
public import SluiceRunner
#if canImport(Glibc)
import Glibc
#endif

/// What a sandboxed local stage may touch (see `SandboxPolicy`):
///
/// - write: its own workspace and a private scratch folder (its `HOME` and `TMPDIR`), which is
///   removed when the stage ends;
/// - read and execute: the system's read-only trees (`/usr`, `/bin`, `/sbin`, `/lib*`, `/etc`,
///   `/opt`, `/proc`, `/sys`, the resolver's `/run/systemd/resolve`), the folders on the stage's
///   `PATH`, a Python virtual environment whose `bin` is on it and the Python installation it
///   was made from;
/// - read and write existing devices under `/dev` (`/dev/null`, `/dev/tty`), create none.
///
/// Never granted, even where they lie inside one of those trees or a `PATH` entry lies inside
/// them: the state folder (run store, registry, content-addressed store, other workspaces and
/// logs), the controller's configuration file, and mounted credentials (`/run/secrets`, where
/// Kubernetes puts a pod's service-account token). The controller's home is carved out of the
/// trees above; only a `PATH` entry or a venv's Python installation inside it is readable. Everything else — `/tmp`, `/var`, `/home`,
/// `/root`, `/srv`, `/mnt` — is out of reach.
public enum StageSandbox {
    static let systemTrees = ["/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc", "/opt", "/proc", "/sys",
                              "/run/systemd/resolve"]
    static let credentialTrees = ["/run/secrets", "/var/run/secrets"]

    /// The private scratch folder of a stage (its HOME and TMPDIR), under the state folder.
    public static func scratch(stateDirectory: String, runID: Int64, stage: String) -> String {
        "\(stateDirectory)/scratch/run-\(runID)/\(stage)"
    }

    /// - Parameters:
    ///   - protected: paths never to grant besides the state folder (the controller's configuration).
    public static func policy(workspace: String, scratch: String, stateDirectory: String, path: String?,
                              controllerHome: String?, protected: [String]) -> SandboxPolicy {
        // Never granted, not even when a PATH entry lies inside: the state folder, the configuration
        // and mounted credentials. The home is carved out of wider trees, but a PATH entry or a
        // Python installation inside it (pyenv, ~/.local/bin) is the operator's own choice.
        let forbidden = ([stateDirectory] + protected + credentialTrees).compactMap(realPath)
        let denied = forbidden + [controllerHome].compactMap { $0 }.compactMap(realPath)
        var roots = systemTrees
        for dir in (path ?? "").split(separator: ":").map(String.init) where dir.hasPrefix("/") {
            roots.append(dir)
            // A virtual environment's interpreter reads its pyvenv.cfg and lib/ next to bin/.
            var trimmed = Substring(dir)
            while trimmed.count > 1, trimmed.hasSuffix("/") { trimmed.removeLast() }
            if let slash = trimmed.lastIndex(of: "/"), slash > trimmed.startIndex {
                let parent = String(trimmed[..<slash])
                if let base = pythonHome(venv: parent) { roots += [parent, base] }
            }
        }
        var read: [String] = []
        for root in roots {
            guard let resolved = realPath(root), !read.contains(resolved),
                  !forbidden.contains(where: { resolved == $0 || resolved.hasPrefix($0 + "/") }) else { continue }
            read += carve(resolved, excluding: denied)
        }
        return SandboxPolicy(read: read, write: [workspace, scratch])
    }

    /// The Python installation a virtual environment was made from (`home = .../bin` in its
    /// `pyvenv.cfg`, without `bin`): its interpreter is a link there. Nil when `venv` is not one.
    static func pythonHome(venv: String) -> String? {
        guard let bytes = FileManager.default.contents(atPath: venv + "/pyvenv.cfg"), bytes.count < 64 << 10 else { return nil }
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
            let parts = line.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, parts[0].trimmingCharacters(in: .whitespaces) == "home" else { continue }
            var home = parts[1].trimmingCharacters(in: .whitespaces)
            guard home.hasPrefix("/") else { return venv }
            if home.hasSuffix("/bin") { home.removeLast(4) }
            return home.isEmpty ? venv : home
        }
        return venv
    }

    /// `root` without the `excluded` paths inside it: the root itself when none is inside,
    /// else its children, each carved the same way (a child that is excluded is left out).
    static func carve(_ root: String, excluding excluded: [String], depth: Int = 0) -> [String] {
        let inside = excluded.filter { $0 == root || $0.hasPrefix(root == "/" ? "/" : root + "/") }
        if inside.isEmpty { return [root] }
        if inside.contains(root) || depth > 32 { return [] }
        let children: [String]
        do { children = try FileManager.default.contentsOfDirectory(atPath: root) } catch {
            return []  // cannot be listed: nothing beneath it is granted (fail closed)
        }
        return children.sorted().flatMap { child -> [String] in
            let full = (root == "/" ? "" : root) + "/" + child
            var info = stat()
            // A link inside is not followed: what it points to is granted (or not) on its own.
            guard lstat(full, &info) == 0, (info.st_mode & S_IFMT) != S_IFLNK else { return [] }
            return carve(full, excluding: inside, depth: depth + 1)
        }
    }

    static func realPath(_ path: String) -> String? {
        guard let p = realpath(path, nil) else { return nil }
        defer { free(p) }
        return String(cString: p)
    }
}
