import FoundationEssentials
import SluiceCore
import SluiceGit

/// `sluice validate` reads the working tree; `plan`, `run` and the controller read commits. For
/// the files a pipeline reads from its commit (`sluice.yaml`, the policy, data schemas,
/// parameter files), say which ones the commit does not have as they are on disk, so a file that
/// validates but was never committed does not fail the run, and an edit is not silently ignored.
public enum UncommittedFiles {
    /// Notes for the files (absolute paths) that differ from HEAD, or that HEAD lacks. Empty when
    /// the folder is not in a git working tree, or HEAD has no commit yet (nothing to compare).
    public static func notes(files: [String]) -> [String] {
        guard let first = files.first else { return [] }
        let repository: GitRepository
        do { repository = try GitRepository(path: String(first[..<(first.lastIndex(of: "/") ?? first.endIndex)])) } catch { return [] }
        guard let root = repository.workingDirectory.map(RepositorySource.stateLocation),
              let head = repository.resolveReference("HEAD") else { return [] }
        let commit: GitCommit
        do { commit = try repository.commit(head) } catch { return [] }
        var notes: [String] = []
        for file in files {
            let absolute = RepositorySource.stateLocation(file)
            guard absolute.hasPrefix(root + "/"), let disk = FileManager.default.contents(atPath: absolute) else { continue }
            let relative = String(absolute.dropFirst(root.count + 1))
            guard let committed = commit.contents(at: relative) else {
                notes.append("\(relative) is not committed: plan and run read commits, so commit it before `sluice run`")
                continue
            }
            if committed != [UInt8](disk) {
                notes.append("\(relative) has changes that are not committed: plan and run read the commit (\(CommitID(head).short)), not these")
            }
        }
        return notes
    }
}
