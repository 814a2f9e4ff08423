import CProcess
#if canImport(Glibc)
import Glibc
#endif

/// Confines a stage process with Landlock (Linux 5.13+, unprivileged): it may write only the
/// paths granted for writing, read and execute only those granted for reading, and (Linux 6.12+,
/// ABI 6) cannot signal processes outside its sandbox. Paths not granted — the state folder,
/// other workspaces, the controller's configuration and home — are out of reach: opening them
/// fails with "Permission denied". Applied in the child between fork and exec.
public struct SandboxPolicy: Sendable, Hashable {
    /// Read, list and execute beneath these.
    public var read: [String]
    /// Everything beneath these (create, write, remove, rename).
    public var write: [String]
    /// Read and write existing files beneath these, create nothing (`/dev`).
    public var devices: [String]

    public init(read: [String], write: [String], devices: [String] = ["/dev"]) {
        self.read = read
        self.write = write
        self.devices = devices
    }
}

public enum Sandbox {
    /// Whether stages can be sandboxed here.
    public enum Support: Sendable, Hashable, CustomStringConvertible {
        case available(abi: Int)
        case unavailable(reason: String)

        public var isAvailable: Bool {
            if case .available = self { return true }
            return false
        }

        public var description: String {
            switch self {
            case .available(let abi): return "Landlock ABI \(abi)"
            case .unavailable(let reason): return "unavailable: \(reason)"
            }
        }
    }

    /// What this kernel offers. `SLUICE_SANDBOX=off` in `environment` turns sandboxing off, as
    /// on a kernel without Landlock (for a container runtime whose seccomp profile blocks it).
    public static func support(environment: [String: String]) -> Support {
        if environment["SLUICE_SANDBOX"] == "off" { return .unavailable(reason: "turned off with SLUICE_SANDBOX=off") }
        let abi = sluice_landlock_abi()
        if abi >= 1 { return .available(abi: Int(abi)) }
        switch -abi {
        case ENOSYS: return .unavailable(reason: "this kernel has no Landlock (Linux 5.13 or later with CONFIG_SECURITY_LANDLOCK is needed)")
        case EOPNOTSUPP: return .unavailable(reason: "Landlock is built into this kernel but not enabled (add landlock to the lsm= boot parameter)")
        case EPERM: return .unavailable(reason: "Landlock is blocked here (a seccomp profile denies its system calls)")
        default: return .unavailable(reason: "Landlock cannot be used: \(String(cString: strerror(-abi)))")
        }
    }

    /// A Landlock ruleset descriptor, closed when released.
    final class Ruleset {
        let fd: Int32
        init(fd: Int32) { self.fd = fd }
        deinit { close(fd) }
    }

    /// The kernel ruleset for `policy`. Paths that do not exist are left out.
    static func ruleset(_ policy: SandboxPolicy, abi: Int) throws(StageProcess.SpawnError) -> Ruleset {
        let fd = sluice_landlock_ruleset(Int32(abi))
        guard fd >= 0 else { throw StageProcess.SpawnError(description: "cannot create the sandbox: \(String(cString: strerror(-fd)))") }
        let ruleset = Ruleset(fd: fd)
        let grants = policy.read.map { ($0, SLUICE_READ) } + policy.write.map { ($0, SLUICE_WRITE) } + policy.devices.map { ($0, SLUICE_DEVICE) }
        for (path, access) in grants {
            let rc = sluice_landlock_allow(fd, Int32(abi), path, Int32(access.rawValue))
            if rc == -ENOENT || rc == -ENOTDIR { continue }
            guard rc == 0 else {
                throw StageProcess.SpawnError(description: "cannot grant the sandbox access to \(path): \(String(cString: strerror(-rc)))")
            }
        }
        return ruleset
    }
}
