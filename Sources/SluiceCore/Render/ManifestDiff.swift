/// What deploying would change, object by object, as lines a reviewer reads in a report:
/// `+ Deployment ml/iris (new)`, `- ConfigMap ml/old (removed)`, `~ Deployment ml/iris` followed
/// by its changed lines (`-` old, `+` new).
public enum ManifestDiff {
    /// - Parameter parse: reads a manifest's text as a tree (the YAML adapter); when both
    ///   versions parse, the changes are field paths (`FieldDiff`), else changed lines.
    public static func lines(current: [(path: String, content: String)], next: [(path: String, content: String)],
                             maxLinesPerObject: Int = 20, parse: (String) -> FieldDiff.Tree? = { _ in nil }) -> [String] {
        let before = Dictionary(current.map { ($0.path, $0.content) }, uniquingKeysWith: { a, _ in a })
        let after = Dictionary(next.map { ($0.path, $0.content) }, uniquingKeysWith: { a, _ in a })
        var out: [String] = []
        for path in Set(before.keys).union(after.keys).sorted() {
            let label = describe(path)
            switch (before[path], after[path]) {
            case (nil, _?): out.append("+ \(label) (new)")
            case (_?, nil): out.append("- \(label) (removed)")
            case (let a?, let b?) where a != b:
                out.append("~ \(label)")
                let changes: [String]
                if let old = parse(a), let new = parse(b) {
                    changes = FieldDiff.lines(before: old, after: new)
                } else {
                    changes = lineDiff(a.split(separator: "\n", omittingEmptySubsequences: false).map(String.init),
                                       b.split(separator: "\n", omittingEmptySubsequences: false).map(String.init))
                }
                out += changes.prefix(maxLinesPerObject).map { "    " + $0 }
                if changes.count > maxLinesPerObject { out.append("    … \(changes.count - maxLinesPerObject) more changed lines") }
            default: continue
            }
        }
        return out
    }

    /// `ml/deployment-iris.yaml` -> `deployment ml/iris` (the file names ManifestObject gives).
    static func describe(_ path: String) -> String {
        let parts = path.split(separator: "/")
        guard parts.count == 2 else { return path }
        var file = String(parts[1])
        if file.hasSuffix(".yaml") { file.removeLast(5) }
        guard let dash = file.firstIndex(of: "-") else { return path }
        let namespace = parts[0] == "_cluster" ? "" : "\(parts[0])/"
        return "\(file[..<dash]) \(namespace)\(file[file.index(after: dash)...])"
    }

    /// Changed lines by longest common subsequence: removed lines as `- `, added as `+ `.
    static func lineDiff(_ a: [String], _ b: [String]) -> [String] {
        let n = a.count, m = b.count
        guard n * m <= 4_000_000 else { return ["- (\(n) lines)", "+ (\(m) lines)"] }
        var table = [[Int]](repeating: [Int](repeating: 0, count: m + 1), count: n + 1)
        for i in stride(from: n - 1, through: 0, by: -1) {
            for j in stride(from: m - 1, through: 0, by: -1) {
                table[i][j] = a[i] == b[j] ? table[i + 1][j + 1] + 1 : max(table[i + 1][j], table[i][j + 1])
            }
        }
        var out: [String] = []
        var i = 0, j = 0
        while i < n || j < m {
            if i < n, j < m, a[i] == b[j] { i += 1; j += 1 }
            else if j < m, i == n || table[i][j + 1] > table[i + 1][j] { out.append("+ " + b[j].trimmingWhitespace()); j += 1 }
            else { out.append("- " + a[i].trimmingWhitespace()); i += 1 }
        }
        return out
    }
}
