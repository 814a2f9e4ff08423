import FoundationEssentials
import SluiceStore

/// Before the run store held processed refs, each repository's were a JSON file in the state
/// folder (`refs/<key>.json`). The first tracker of a repository moves that file's refs into
/// the store (those the store lacks) and removes it, so an upgrade runs no tip a second time.
enum LegacyProcessedRefs {
    static func file(stateDirectory: String, repository location: String) -> String {
        stateDirectory + "/refs/" + RepositorySource.stateKey(for: location) + ".json"
    }

    static func move(into store: RunStore, repository location: String) throws {
        let path = file(stateDirectory: store.stateDirectory, repository: location)
        // An unreadable file held nothing usable (it counted as empty before, too).
        guard let data = FileManager.default.contents(atPath: path) else { return }
        let refs: [String: String]
        do {
            refs = try JSONDecoder().decode([String: String].self, from: data)
        } catch {
            refs = [:]
        }
        try store.importProcessed(refs, repository: location, at: WallClock.now())
        do {
            try FileManager.default.removeItem(atPath: path)
        } catch where !FileManager.default.fileExists(atPath: path) {
            // Another tracker of the repository moved it at the same moment.
        }
    }
}
