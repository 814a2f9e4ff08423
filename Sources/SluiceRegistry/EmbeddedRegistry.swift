import FoundationEssentials
import SluiceCore
public import SluiceStore
import SluiceYAML

/// The default registry: versions in the run store; production is whatever the newest
/// entry of the promotion log names.
public struct EmbeddedRegistry: ModelRegistry {
    public let store: RunStore
    public var kind: String { "embedded" }

    public init(store: RunStore) { self.store = store }

    public func production(model: String) throws(RegistryError) -> RegisteredVersion? {
        do {
            guard let last = try store.promotions(model: model).last else { return nil }
            return try version(model: model, version: last.version)
        } catch let e as RegistryError { throw e } catch {
            throw RegistryError("\(error)")
        }
    }

    public func register(_ c: Candidate) throws(RegistryError) -> Registration {
        do {
            let record = try store.registerVersion(model: c.model, commit: c.commit, runId: c.runID, metrics: c.metricsJSON,
                                                   datasetVersions: Self.json(c.datasetVersions), artifactDigest: c.artifactDigest,
                                                   at: Self.now())
            return Registration(version: RegisteredVersion(model: c.model, version: record.version, commit: c.commit, runID: c.runID, metrics: c.metrics,
                                                           datasetVersions: c.datasetVersions, artifactDigest: c.artifactDigest))
        } catch {
            throw RegistryError("\(error)")
        }
    }

    public func version(model: String, version: String) throws(RegistryError) -> RegisteredVersion? {
        let record: ModelVersionRecord?
        do { record = try store.modelVersion(model: model, version: version) } catch { throw RegistryError("\(error)") }
        guard let record else { return nil }
        let metrics = MetricsJSON.read(record.metrics, file: "model \(model) v\(version) metrics") ?? MetricSet()
        let datasets = (try? JSONDecoder().decode([String: String].self, from: Data(record.datasetVersions.utf8))) ?? [:]
        return RegisteredVersion(model: model, version: version, commit: record.commit, runID: record.runId, metrics: metrics,
                                 datasetVersions: datasets, artifactDigest: record.artifactDigest)
    }

    /// Production is derived from the log, which already names it.
    public func setProduction(model: String, version: String) throws(RegistryError) {}

    static func json(_ map: [String: String]) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return (try? String(decoding: encoder.encode(map), as: UTF8.self)) ?? "{}"
    }

    static func now() -> Double { Date().timeIntervalSince1970 }
}
