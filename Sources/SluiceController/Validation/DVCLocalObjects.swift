import FoundationEssentials
import SluiceCore

/// Where DVC keeps objects on this machine for a working tree: its cache, and its default
/// remote when that is a folder (`url = ../dvc-store`, `/mnt/share`, `file://…`).
enum DVCLocalObjects {
    /// The folders that may hold objects, in the order to try; the default remote's URL too.
    static func roots(workspace: String, repositoryPath: String? = nil) -> (folders: [String], remote: String?) {
        var folders = [workspace + "/.dvc/cache"] + (repositoryPath.map { [$0 + "/.dvc/cache"] } ?? [])
        let config = FileManager.default.contents(atPath: workspace + "/.dvc/config").map { String(decoding: $0, as: UTF8.self) }
        let remote = config.flatMap(DVCPointer.defaultRemoteURL)
        if let remote {
            if remote.hasPrefix("file://") { folders.append(String(remote.dropFirst(7))) }
            else if remote.hasPrefix("/") { folders.append(remote) }
            else if !remote.contains("://") { folders.append(workspace + "/.dvc/" + remote) }  // relative to .dvc/
        }
        return (folders, remote)
    }

    /// The path of `md5`'s object in the first folder that has it.
    static func path(md5: String, in folders: [String]) -> String? {
        for root in folders {
            for relative in DVCPointer.objectPaths(md5: md5) where FileManager.default.fileExists(atPath: root + "/" + relative) {
                return root + "/" + relative
            }
        }
        return nil
    }
}
