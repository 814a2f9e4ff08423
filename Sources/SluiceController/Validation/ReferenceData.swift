import Crypto
import Foundation
import SluiceCore
import SluiceGit
import SluiceHTTP
import SluiceRunner
import SluiceYAML

/// The data a `validate-data` stage compares its file with when it names no `reference`: the same
/// path as of the production model's commit.
public enum ReferenceData: Sendable, Hashable {
    /// On disk at `path`; `name` says what it is ("data/houses.csv of the production model
    /// (version 1, DVC md5 22a010b8…)").
    case file(path: String, name: String)
    /// There is a production model but its data could not be had; `reason` says why.
    case unavailable(reason: String)
}

/// Finds the production model's version of a data file: in git for in-repository data; for
/// DVC-tracked data, the object of the md5 its pointer recorded at that commit, from the run's
/// DVC cache, the repository's own cache, or the repository's default DVC remote (a folder,
/// also one inside the repository, or HTTP), else through the real `dvc get`. Every object is
/// checked against its md5 before use.
struct ReferenceDataFinder: Sendable {
    let stateDirectory: String
    let spec: PipelineSpec
    /// The production model's commit and version.
    let commit: GitCommit
    let version: String
    /// The repository as Sluice opened it (a local path's working tree holds its DVC cache).
    let repositoryPath: String
    /// What `dvc get` clones: the repository's URL or path.
    let repositoryLocation: String
    let environment: [String: String]

    func find(_ data: String, workspace: String) -> ReferenceData? {
        let target = "\(stateDirectory)/reference/\(commit.id)/\(data)"
        if let bytes = commit.contents(at: data) {
            return write(bytes, to: target).map { .unavailable(reason: $0) }
                ?? .file(path: target, name: "\(data) of the production model (version \(version))")
        }
        guard let (pointer, output) = dvcOutput(containing: data) else {
            return .unavailable(reason: "\(data) is neither in the production model's commit \(CommitID(commit.id).short) nor tracked by a DVC dataset of sluice.yaml")
        }
        let wanted = "\(data) of the production model (version \(version), DVC md5 \(output.md5.prefix(8))…)"
        do {
            let bytes: [UInt8]
            if output.md5.hasSuffix(".dir") {
                let listing = try object(output.md5, workspace: workspace, path: data)
                let inside = String(data.dropFirst(output.path.count + 1))
                guard let entries = try JSONSerialization.jsonObject(with: Data(listing)) as? [[String: Any]],
                      let md5 = entries.first(where: { $0["relpath"] as? String == inside })?["md5"] as? String else {
                    return .unavailable(reason: "\(wanted) is not listed in the folder \(output.path) that \(pointer) recorded")
                }
                bytes = try object(md5, workspace: workspace, path: data)
            } else {
                bytes = try object(output.md5, workspace: workspace, path: data)
            }
            if let problem = write(bytes, to: target) { return .unavailable(reason: problem) }
            return .file(path: target, name: wanted)
        } catch let error as Missing {
            return .unavailable(reason: "\(wanted) could not be fetched: \(error.reason)")
        } catch {
            return .unavailable(reason: "\(wanted) could not be read: \(error)")
        }
    }

    struct Missing: Error { var reason: String }

    /// The DVC pointer (at the production commit) whose output is `data` or a folder holding it.
    func dvcOutput(containing data: String) -> (pointer: String, output: (path: String, md5: String))? {
        for dataset in spec.datasets {
            guard case .dvcPointer(let file) = dataset.source, let bytes = commit.contents(at: file) else { continue }
            do {
                let output = try DVCPointer.output(ofPointer: try YAMLParser.parseDocument(bytes, file: file), file: file)
                if output.path == data || data.hasPrefix(output.path + "/") { return (file, output) }
            } catch {
                continue  // a pointer that does not parse tracks nothing here; the planner reports it
            }
        }
        return nil
    }

    /// The object of `md5` (of the repository file `path`), verified, from the first place that has it.
    func object(_ md5: String, workspace: String, path data: String) throws -> [UInt8] {
        var tried: [String] = []
        let (roots, remote) = DVCLocalObjects.roots(workspace: workspace, repositoryPath: repositoryPath)
        let http = remote.flatMap { $0.hasPrefix("http://") || $0.hasPrefix("https://") ? $0 : nil }
        for root in roots {
            for relative in DVCPointer.objectPaths(md5: md5) {
                let path = root + "/" + relative
                guard let data = FileManager.default.contents(atPath: path) else { continue }
                let bytes = [UInt8](data)
                guard Self.matches(bytes, md5) else { throw Missing(reason: "\(path) does not match its md5 (a corrupt cache or remote)") }
                return bytes
            }
            tried.append(root)
        }
        if let http {
            let client = HTTPClient()
            for relative in DVCPointer.objectPaths(md5: md5) {
                let url = (http.hasSuffix("/") ? String(http.dropLast()) : http) + "/" + relative
                let response = try client.send(HTTPRequest(method: "GET", url: url, headers: [("User-Agent", "sluice")], body: nil, timeout: 120))
                if response.status == 404 { continue }
                if response.status == 401 || response.status == 403 {
                    throw Missing(reason: "the DVC remote \(http) answered \(response.status): it needs credentials Sluice does not have (objects of an HTTP remote are read without them)")
                }
                guard response.status == 200 else { throw Missing(reason: "the DVC remote \(http) answered \(response.status) for \(relative)") }
                guard Self.matches(response.body, md5) else { throw Missing(reason: "\(url) does not match its md5") }
                return response.body
            }
            throw Missing(reason: "the object \(DVCPointer.objectPaths(md5: md5)[0]) is missing from the DVC remote \(http)")
        }
        if let remote, remote.contains("://") {
            return try dvcGet(data, md5: md5, remote: remote)
        }
        throw Missing(reason: remote == nil
            ? "it is in no DVC cache Sluice can read (\(tried.joined(separator: ", "))) and .dvc/config names no default remote"
            : "the object \(DVCPointer.objectPaths(md5: md5)[0]) is missing from the DVC remote \(remote!) and from the caches (\(tried.dropLast().joined(separator: ", ")))")
    }

    /// Other remotes (S3, GCS, SSH, ...) are read by the real `dvc get` of `path` at the production commit.
    func dvcGet(_ path: String, md5: String, remote: String) throws -> [UInt8] {
        guard !md5.hasSuffix(".dir") else {
            throw Missing(reason: "the DVC remote \(remote) is read through dvc, which fetches files, not folder listings")
        }
        let temporary = TemporaryFolder(under: "\(stateDirectory)/reference", prefix: "dvc-get")
        defer { temporary.remove() }
        let folder = temporary.path
        let result = try Command.run(["dvc", "get", repositoryLocation, path, "--rev", commit.id, "-o", folder + "/out"],
                                     workingDirectory: stateDirectory, environment: environment, timeoutSeconds: 600)
        guard result.status == 0, let data = FileManager.default.contents(atPath: folder + "/out") else {
            throw Missing(reason: "dvc get from the remote \(remote) failed: \(result.stderr.trimmingCharacters(in: .whitespacesAndNewlines).suffix(300))")
        }
        let bytes = [UInt8](data)
        guard Self.matches(bytes, md5) else { throw Missing(reason: "what dvc get fetched does not match md5 \(md5)") }
        return bytes
    }

    static func matches(_ bytes: [UInt8], _ md5: String) -> Bool {
        let digits = Array("0123456789abcdef")
        let hex = String(Insecure.MD5.hash(data: bytes).flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 15)]] })
        return hex == (md5.hasSuffix(".dir") ? String(md5.dropLast(4)) : md5)
    }

    /// Writes the reference file; returns a problem, or nil.
    func write(_ bytes: [UInt8], to path: String) -> String? {
        do {
            try FileManager.default.createDirectory(atPath: String(path[..<path.lastIndex(of: "/")!]), withIntermediateDirectories: true)
            if !FileManager.default.fileExists(atPath: path) { try Data(bytes).write(to: URL(fileURLWithPath: path), options: .atomic) }
            return nil
        } catch {
            return "the reference data could not be written to \(path): \(error)"
        }
    }
}
