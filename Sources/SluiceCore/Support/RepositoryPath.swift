/// Repository-relative paths in the one form git trees and lookups use:
/// no leading `./`, no trailing `/` (`./data/images/` -> `data/images`).
public enum RepositoryPath {
    public static func normalized(_ path: String) -> String {
        var p = Substring(path)
        while p.hasPrefix("./") { p = p.dropFirst(2) }
        while p.count > 1, p.hasSuffix("/") { p = p.dropLast() }
        return String(p)
    }
}
