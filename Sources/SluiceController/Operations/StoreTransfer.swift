import FoundationEssentials
import SluiceCore
import SluiceStore

/// `sluice store export` and `import`: the run store as JSON lines, to move a state folder, to
/// back it up as text, or to change what keeps it (SQLite to PostgreSQL and back).
public enum StoreTransfer {
    /// Writes the store of `stateDirectory` to `emit`, line by line (one consistent moment of it,
    /// even while a controller writes).
    public static func export(stateDirectory: String, environment: [String: String], emit: (String) throws -> Void) throws {
        guard RunStores.exists(stateDirectory: stateDirectory, environment: environment) else {
            throw LoadError(message: "\(stateDirectory) holds no run store (\(RunStore.fileName))", hint: "name the state folder with --state or SLUICE_STATE")
        }
        try RunStores.open(stateDirectory: stateDirectory, environment: environment).export(emit)
    }

    public struct Imported: Sendable {
        public var rows: [String: Int]
        /// Where the store now is: the state folder, or the database's URL without its password.
        public var into: String
        /// Artifact blobs copied from `--from` (outputs, and each file of a folder output).
        public var outputs = 0
        /// Run log folders copied from `--from`.
        public var logFolders = 0
    }

    /// Builds the store of an empty `stateDirectory` (or of the empty database
    /// `SLUICE_DATABASE_URL` names) from `next`'s lines; with `from` (the
    /// exported state folder), copies the artifacts the store names (checked by digest, and into
    /// the bucket when one is configured) and the stage logs too.
    public static func importStore(stateDirectory: String, source: String, from: String?, environment: [String: String],
                                   next: () throws -> String?) throws -> Imported {
        let database = try DatabaseSettings.from(environment: environment)
        let imported = try RunStore.importDump(into: stateDirectory, database: database, source: source, next: next)
        var result = Imported(rows: imported.rows, into: database?.redacted ?? stateDirectory)
        guard let from else { return result }
        let store = try RunStores.open(stateDirectory: stateDirectory, environment: environment)
        let old = ArtifactStore(stateDirectory: from)
        for artifact in try store.distinctArtifacts() {
            do throws(ArtifactStore.ArtifactError) {
                try store.artifactStore.copy(artifact.digest, kind: artifact.kind, relative: artifact.path, from: old)
            } catch {
                throw LoadError(message: "output '\(artifact.path)' of run \(artifact.runId) (\(artifact.digest)) could not be copied from \(from): \(error)",
                                hint: "the store is imported; copy \(from)/cas by hand or run the import again into an empty folder")
            }
            result.outputs += 1
        }
        let fm = FileManager.default
        let logs = from + "/logs"
        if fm.fileExists(atPath: logs) {
            try fm.createDirectory(atPath: stateDirectory + "/logs", withIntermediateDirectories: true)
            for folder in try fm.contentsOfDirectory(atPath: logs).sorted() where !fm.fileExists(atPath: stateDirectory + "/logs/" + folder) {
                try fm.copyItem(atPath: logs + "/" + folder, toPath: stateDirectory + "/logs/" + folder)
                result.logFolders += 1
            }
        }
        return result
    }
}
