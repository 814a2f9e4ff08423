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
    @discardableResult
    public static func kill(workspace: String) -> [pid_t] {
        let marker = Array("SLUICE_WORKSPACE=\(workspace)".utf8)
        var found: [pid_t] = []
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
        for entry in entries {
            guard let pid = pid_t(entry), pid != getpid() else { continue }
            guard let environ = FileManager.default.contents(atPath: "/proc/\(pid)/environ") else { continue }
            let variables = [UInt8](environ).split(separator: 0)
            guard variables.contains(where: { $0.elementsEqual(marker) }) else { continue }
            found.append(pid)
            let group = getpgid(pid)
            if group > 1 { Glibc.kill(-group, SIGKILL) } else { Glibc.kill(pid, SIGKILL) }
        }
        return found
    }
}
