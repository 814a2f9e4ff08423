import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// A private folder for work Sluice itself does (a kustomize build, a `dvc get`), named so that
/// two at once never meet. `remove()` deletes it; one that cannot be deleted is said on stderr
/// (the controller's log) rather than silently left behind.
public struct TemporaryFolder: Sendable {
    public let path: String

    public init(under parent: String, prefix: String) {
        path = "\(parent)/\(prefix)-\(UInt64.random(in: 0...UInt64.max))"
    }

    public func remove() {
        guard FileManager.default.fileExists(atPath: path) else { return }
        do { try FileManager.default.removeItem(atPath: path) } catch {
            let line = "sluice: warning: the temporary folder \(path) could not be removed: \(error)\n"
            _ = line.utf8CString.withUnsafeBufferPointer { write(STDERR_FILENO, $0.baseAddress, $0.count - 1) }
        }
    }
}
