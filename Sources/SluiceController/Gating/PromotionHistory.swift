import FoundationEssentials
public import SluiceCore
public import SluiceGit
public import SluiceRegistry
public import SluiceStore

/// The promotion log, recorded in the watched repository too: each promotion and rollback is
/// one commit on `refs/sluice/promotions` whose tree holds the whole log as JSON lines
/// (`promotions.jsonl`), pushed with the notes. A new replica or a lost state folder recovers
/// each model's production version from it before gating anything, so it neither forgets
/// production nor promotes an older candidate over it.
public enum PromotionHistory {
    public static let ref = "refs/sluice/promotions"
    static let file = "promotions.jsonl"

    /// One promotion or rollback, with what the embedded registry needs to know the version again.
    public struct Entry: Codable, Sendable, Hashable {
        public var model: String
        public var version: String
        public var action: String
        public var commit: String
        public var previousVersion: String?
        public var actor: String
        public var reason: String
        public var createdAt: Double
        public var metrics: MetricSet
        public var datasetVersions: [String: String]
        public var artifactDigest: String?

        public init(_ record: PromotionRecord, version registered: RegisteredVersion) {
            model = record.model
            version = record.version
            action = record.action.rawValue
            commit = record.commit
            previousVersion = record.previousVersion
            actor = record.actor
            reason = record.reason
            createdAt = record.createdAt
            metrics = registered.metrics
            datasetVersions = registered.datasetVersions
            artifactDigest = registered.artifactDigest
        }
    }

    /// Every entry, oldest first ([] when the repository has no record yet).
    public static func entries(in repository: GitRepository) throws -> [Entry] {
        guard let head = repository.resolveReference(ref) else { return [] }
        guard let bytes = try repository.commit(head).contents(at: file) else { return [] }
        var entries: [Entry] = []
        for (n, line) in String(decoding: bytes, as: UTF8.self).split(separator: "\n").enumerated() where !line.isEmpty {
            do { entries.append(try JSONDecoder().decode(Entry.self, from: Data(line.utf8))) } catch {
                throw LoadError(message: "\(ref):\(file):\(n + 1): not a promotion entry: \(error)",
                                hint: "the record is written by Sluice only; restore it from the remote's history")
            }
        }
        return entries
    }

    /// Brings the record of `model` up to the promotion log: the log's entries the record does not
    /// hold yet (by version, action and time; a state folder may have started after the record
    /// did) are appended, in log order, as one commit. The ref moves only from the head that was
    /// read (libgit2 refuses a commit whose parent is no longer the tip), so two writers never
    /// record an entry twice: the one that lost reads again.
    public static func sync(model: String, store: RunStore, registry: any ModelRegistry, repository: GitRepository) throws {
        for attempt in 1...3 {
            let recorded = try entries(in: repository)
            let known = Set(recorded.lazy.filter { $0.model == model }.map { "\($0.version) \($0.action) \($0.createdAt)" })
            let missing = try store.promotions(model: model).filter { !known.contains("\($0.version) \($0.action.rawValue) \($0.createdAt)") }
            guard !missing.isEmpty else { return }
            var lines = try recorded.map(encode)
            var added: [Entry] = []
            for record in missing {
                // The registry's record of the version carries what a recovery needs (metrics, data versions, digest).
                let version = try registry.version(model: model, version: record.version)
                    ?? RegisteredVersion(model: model, version: record.version, commit: record.commit, runID: record.runId, metrics: MetricSet(),
                                         datasetVersions: [:], artifactDigest: nil)
                added.append(Entry(record, version: version))
                lines.append(try encode(added.last!))
            }
            let last = added.last!
            let message = "\(last.action) \(model) version \(last.version) (commit \(CommitID(last.commit).short)) by \(last.actor): \(last.reason)"
                + (added.count > 1 ? " (and \(added.count - 1) earlier entries of the log)" : "")
            do {
                _ = try repository.commitFiles([(file, lines.joined(separator: "\n") + "\n")], ref: ref, message: message)
                return
            } catch {
                if attempt == 3 { throw error }  // else another writer moved the ref: read it again
            }
        }
    }

    static func encode(_ entry: Entry) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(entry), as: UTF8.self)
    }

    /// When the store knows no promotion of `model` but the repository's record does (a fresh
    /// state folder, a new replica), imports the record: its versions into the embedded
    /// registry and its entries into the promotion log. Returns what was recovered, for a note.
    public static func recover(model: String, store: RunStore, repository: GitRepository) throws -> String? {
        guard try store.promotions(model: model).isEmpty else { return nil }
        let entries = try entries(in: repository).filter { $0.model == model }
        guard let last = entries.last else { return nil }
        var current: String?
        for e in entries {
            try store.importVersion(ModelVersionRecord(model: model, version: e.version, commit: e.commit, runId: nil,
                                                       metrics: metricsJSON(e.metrics), datasetVersions: try encodeMap(e.datasetVersions),
                                                       artifactDigest: e.artifactDigest, createdAt: e.createdAt))
            let record = PromotionRecord(model: model, version: e.version, action: e.action == "rollback" ? .rollback : .promote, commit: e.commit,
                                         runId: nil, previousVersion: e.previousVersion, actor: "\(e.actor) (recovered from \(ref))",
                                         reason: e.reason, createdAt: e.createdAt)
            switch try store.appendPromotion(record, expectedVersion: current) {
            case .appended: break
            case .productionMoved:
                throw LoadError(message: "the promotion log of \(model) changed while it was being recovered from \(ref); run again")
            case .fenced(let refusal):
                throw LoadError(message: "the promotion log of \(model) was not recovered from \(ref): \(refusal)")
            }
            current = e.version
        }
        return "production of \(model) recovered from \(ref): version \(last.version) (commit \(CommitID(last.commit).short), \(entries.count) entries)"
    }

    /// A metrics file's JSON for a metric set (flattened keys stay flattened, slices under `slices`).
    static func metricsJSON(_ metrics: MetricSet) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let values = String(decoding: try encoder.encode(metrics.values), as: UTF8.self)
        guard !metrics.slices.isEmpty else { return values }
        let slices = String(decoding: try encoder.encode(metrics.slices), as: UTF8.self)
        return values == "{}" ? "{\"slices\":\(slices)}" : String(values.dropLast()) + ",\"slices\":\(slices)}"
    }

    static func encodeMap(_ map: [String: String]) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(map), as: UTF8.self)
    }
}
