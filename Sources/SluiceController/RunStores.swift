public import SluiceCore
import FoundationEssentials
import SluiceObjectStore
public import SluiceStore

/// Opens a state folder's run store the way every command needs it: in the PostgreSQL database
/// `SLUICE_DATABASE_URL` names, if any (see `DatabaseSettings`), with the artifact bucket
/// `SLUICE_ARTIFACTS_URL` names, if any (see `ArtifactStorageSettings`).
public enum RunStores {
    public static func open(stateDirectory: String, environment: [String: String]) throws(RunStore.StoreError) -> RunStore {
        let artifacts: ArtifactStorageSettings?, database: DatabaseSettings?
        do {
            artifacts = try ArtifactStorageSettings.from(environment: environment)
            database = try DatabaseSettings.from(environment: environment)
        } catch {
            throw RunStore.StoreError(description: error.description)
        }
        return try open(stateDirectory: stateDirectory, artifacts: artifacts, database: database)
    }

    /// The run store in `database` (nil: the state folder's SQLite file) with the artifacts in
    /// `artifacts`' bucket (nil: the state folder only).
    public static func open(stateDirectory: String, artifacts: ArtifactStorageSettings?,
                            database: DatabaseSettings?) throws(RunStore.StoreError) -> RunStore {
        try RunStore(stateDirectory: stateDirectory, database: database, remoteArtifacts: artifacts.map { S3BlobStore(settings: $0) })
    }

    /// Whether `stateDirectory` (or the database the environment names) holds a run store, for
    /// commands that only read one: a forgotten `--state` must not read as "no runs yet".
    public static func exists(stateDirectory: String, environment: [String: String]) -> Bool {
        guard (environment[DatabaseSettings.environmentVariable] ?? "").isEmpty else { return true }
        return FileManager.default.fileExists(atPath: stateDirectory + "/" + RunStore.fileName)
    }
}
