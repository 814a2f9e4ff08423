import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// Finds and kills stage processes that outlived a controller killed with `kill -9`.
/// A process belongs to a run when its environment holds `SLUICE_WORKSPACE=<the run's
/// workspace>`, which every stage process inherits and which is unique per state
/// directory and run. Matching on that (not on a stored pid, nor on the run id, which
/// another controller with another state directory also uses) keeps a recycled pid or
/// a neighbour's stage from being killed by mistake.
public enum LeftoverProcesses {
    /// Kills the process groups of every process of the run whose workspace is `workspace`;
    /// returns the pids found.
    /// - Parameter stage: only that stage's processes (its own `SLUICE_STAGE`), for a stage that
    ///   ended while others of the run go on; a daemon it started with `setsid` is in another
    ///   process group, so killing the stage's group alone misses it.
    /// - Parameter first: the stage's own process: only processes created after it (pids since
    ///   then, as /proc/loadavg's last pid tells) are read, rather than every process on the
    ///   machine after every stage. When pids wrapped around since, every process is read.
    @discardableResult
    public static func kill(workspace: String, stage: String? = nil, createdAfter first: pid_t? = nil) -> [pid_t] {
        let markers = [Array("SLUICE_WORKSPACE=\(workspace)".utf8)] + (stage.map { [Array("SLUICE_STAGE=\($0)".utf8)] } ?? [])
        var window: ClosedRange<pid_t>?
        if let first, let last = lastCreatedPID() {
            if last == first { return [] }  // no process was created since the stage's own
            if last > first { window = (first + 1)...last }
        }
        var found: [pid_t] = []
        // /proc is always there on Linux; without it there is nothing to find.
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
        for entry in entries {
            guard let pid = pid_t(entry), pid != getpid(), window?.contains(pid) ?? true else { continue }
            guard let environ = FileManager.default.contents(atPath: "/proc/\(pid)/environ") else { continue }
            let variables = [UInt8](environ).split(separator: 0)
            guard markers.allSatisfy({ marker in variables.contains(where: { $0.elementsEqual(marker) }) }) else { continue }
            found.append(pid)
            let group = getpgid(pid)
            if group > 1 { Glibc.kill(-group, SIGKILL) } else { Glibc.kill(pid, SIGKILL) }
        }
        return found
    }

    /// The pid the kernel handed out last in this pid namespace (the last field of /proc/loadavg).
    static func lastCreatedPID() -> pid_t? {
        guard let bytes = FileManager.default.contents(atPath: "/proc/loadavg"),
              let field = String(decoding: bytes, as: UTF8.self).split(whereSeparator: \.isWhitespace).last else { return nil }
        return pid_t(field)
    }
}
