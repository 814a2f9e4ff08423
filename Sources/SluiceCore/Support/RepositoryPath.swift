/// Repository-relative paths in the one form git trees and lookups use:
/// no leading `./`, no trailing `/` (`./data/images/` -> `data/images`).
public enum RepositoryPath {
    public static func normalized(_ path: String) -> String {
        var p = Substring(path)
        while p.hasPrefix("./") { p = p.dropFirst(2) }
        while p.count > 1, p.hasSuffix("/") { p = p.dropLast() }
        return String(p)
    }

    /// Whether a '/'-separated path has a `..` segment (it could leave the repository).
    /// Compares bytes: Foundation's substring search cost more than the rest of the check.
    public static func hasParentSegment(_ path: String) -> Bool {
        let dot = UInt8(ascii: "."), slash = UInt8(ascii: "/")
        var run = 0  // bytes of the current segment, or -1 once it is not only dots
        for byte in path.utf8 {
            if byte == slash {
                if run == 2 { return true }
                run = 0
            } else if byte == dot, run >= 0 {
                run += 1
            } else {
                run = -1
            }
        }
        return run == 2
    }
}
