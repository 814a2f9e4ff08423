import FoundationEssentials
public import SluiceCore
public import SluiceGit

/// A signed version's signature bundle and statements, recorded in the watched repository on
/// `refs/sluice/attestations` (pushed with the notes and the promotion record): one commit per
/// version, whose tree holds every version so far as `<model>/<version>/model.sig`,
/// `provenance.intoto.json`, `gate.intoto.json` and one `approval-<environment>.intoto.json` per
/// manual approval. A verifier needs a clone and the public key,
/// not Sluice or its database:
///
///     git fetch origin refs/sluice/attestations && git archive FETCH_HEAD iris/3 | tar -x
public enum AttestationRecord {
    public static let ref = "refs/sluice/attestations"
    public static let signatureFile = "model.sig"
    public static let provenanceFile = "provenance.intoto.json"
    public static let gateFile = "gate.intoto.json"

    public static func approvalFile(_ environment: String) -> String { "approval-\(environment).intoto.json" }

    /// Records (or replaces) `files` under `<model>/<version>/`. The ref moves only from the head
    /// that was read, so a writer that lost to another reads again.
    public static func write(model: String, version: String, files: [(name: String, content: String)], repository: GitRepository) throws {
        let written = Set(files.map { "\(model)/\(version)/\($0.name)" })
        for attempt in 1...3 {
            let kept = try recorded(in: repository).filter { !written.contains($0.path) }
            let all = kept + files.map { (path: "\(model)/\(version)/\($0.name)", content: $0.content) }
            do {
                _ = try repository.commitFiles(all, ref: ref, message: "\(files.map(\.name).joined(separator: ", ")) of \(model) version \(version)")
                return
            } catch {
                if attempt == 3 { throw error }
            }
        }
    }

    /// The files of one version ([] when it has none).
    public static func files(model: String, version: String, in repository: GitRepository) throws -> [(path: String, content: String)] {
        let folder = "\(model)/\(version)/"
        return try recorded(in: repository).filter { $0.path.hasPrefix(folder) }.map { (String($0.path.dropFirst(folder.count)), $0.content) }
    }

    static func recorded(in repository: GitRepository) throws -> [(path: String, content: String)] {
        guard let head = repository.resolveReference(ref) else { return [] }
        let commit = try repository.commit(head)
        return commit.files(under: "").map { ($0.path, String(decoding: commit.contents(at: $0.path) ?? [], as: UTF8.self)) }
    }
}
