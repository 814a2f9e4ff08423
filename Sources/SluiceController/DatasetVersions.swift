public import SluiceCore
public import SluiceGit
import SluiceYAML

/// Each dataset's version in one commit: the git object id for in-repo data, the
/// hash DVC recorded for DVC-tracked data.
public enum DatasetVersions {
    public static func read(_ spec: PipelineSpec, in commit: GitCommit) -> (versions: [String: String], problems: [Diagnostic]) {
        var versions: [String: String] = [:]
        var problems: [Diagnostic] = []
        for dataset in spec.datasets {
            do throws(Diagnostic) {
                switch dataset.source {
                case .path(let path):
                    guard let id = commit.objectID(at: path) else {
                        throw .error(at: dataset.location, "dataset '\(dataset.name)': '\(path)' is not in commit \(CommitID(commit.id).short)")
                    }
                    versions[dataset.name] = id
                case .dvcPointer(let file):
                    versions[dataset.name] = try DVCPointer.version(ofPointer: try document(file, commit, dataset), file: file)
                case .dvcLock(let file, let path):
                    versions[dataset.name] = try DVCPointer.version(inLock: try document(file, commit, dataset), path: path, file: file)
                }
            } catch {
                problems.append(error)
            }
        }
        return (versions, problems)
    }

    private static func document(_ file: String, _ commit: GitCommit, _ dataset: DatasetSpec) throws(Diagnostic) -> Node? {
        guard let bytes = commit.contents(at: file) else {
            throw .error(at: dataset.location, "dataset '\(dataset.name)': '\(file)' is not in commit \(CommitID(commit.id).short)")
        }
        do throws(YAMLError) {
            return try YAMLParser.parseDocument(bytes, file: file)
        } catch {
            throw error.diagnostic
        }
    }
}
