public import SluiceCore
import SluiceObjectStore
public import SluiceStore

/// Opens a state folder's run store the way every command needs it: with the artifact bucket
/// the environment names (`SLUICE_ARTIFACTS_URL`, see `ArtifactStorageSettings`), if any.
public enum RunStores {
    public static func open(stateDirectory: String, environment: [String: String]) throws(RunStore.StoreError) -> RunStore {
        let settings: ArtifactStorageSettings?
        do { settings = try ArtifactStorageSettings.from(environment: environment) } catch {
            throw RunStore.StoreError(description: error.description)
        }
        return try open(stateDirectory: stateDirectory, artifacts: settings)
    }

    /// The run store with the artifacts in `artifacts`' bucket (nil: the state folder only).
    public static func open(stateDirectory: String, artifacts: ArtifactStorageSettings?) throws(RunStore.StoreError) -> RunStore {
        try RunStore(stateDirectory: stateDirectory, remoteArtifacts: artifacts.map { S3BlobStore(settings: $0) })
    }
}
