#if canImport(Glibc)
import Glibc
#endif

/// Who runs a command, for the promotion log and the step log when `--actor` is not given:
/// `$USER`, else `$LOGNAME`, else the account of the process's user id (containers often set
/// neither variable), else `uid <n>`.
public enum OperatorName {
    public static func current(environment: [String: String]) -> String {
        for key in ["USER", "LOGNAME"] {
            if let name = environment[key], !name.isEmpty { return name }
        }
        if let entry = getpwuid(getuid()), let name = entry.pointee.pw_name, name.pointee != 0 { return String(cString: name) }
        return "uid \(getuid())"
    }
}
