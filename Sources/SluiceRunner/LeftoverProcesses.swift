import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// Finds and kills stage processes that outlived a controller killed with `kill -9`.
/// A process belongs to a run when its environment holds `SLUICE_RUN_ID=<id>`, which
/// every stage process inherits; matching on that (not on a stored pid alone) keeps a
/// recycled pid from being killed by mistake.
public enum LeftoverProcesses {
    /// Kills the process groups of every process of `runID`; returns the pids found.
    @discardableResult
    public static func kill(runID: Int64) -> [pid_t] {
        let marker = Array("SLUICE_RUN_ID=\(runID)".utf8)
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
