import Crypto
import Foundation
import SluiceCore
import SluiceHTTP

/// What MLflow serves for a model version, hashed as it arrives: every file under the version's
/// source, listed through the artifact proxy (`GET mlflow-artifacts/artifacts?path=`) and read
/// back in full. This is what `sluice verify-model` checks the gate's signature against.
extension MLflowClient {
    /// Files deeper than this, or more of them than `maximumFiles`, are refused (a listing is
    /// the server's answer, not Sluice's).
    static let maximumDepth = 32
    static let maximumFiles = 100_000

    func servedFiles(source: String) throws(RegistryError) -> [ModelSignature.File] {
        let root = try Self.proxiedPath(of: source)
        var files: [ModelSignature.File] = []
        var folders: [(path: String, depth: Int)] = [("", 0)]
        while let (folder, depth) = folders.popLast() {
            guard depth <= Self.maximumDepth else { throw RegistryError("MLflow lists \(source) deeper than \(Self.maximumDepth) folders") }
            let listed = try request("GET", "/api/2.0/mlflow-artifacts/artifacts", query: [("path", folder.isEmpty ? root : root + "/" + folder)])
            for entry in listed["files"] as? [[String: Any]] ?? [] {
                guard let name = entry["path"] as? String, !name.isEmpty, !name.split(separator: "/").contains("..") else { continue }
                let path = folder.isEmpty ? name : folder + "/" + name
                if entry["is_dir"] as? Bool == true {
                    folders.append((path, depth + 1))
                } else {
                    files.append(ModelSignature.File(path: path, sha256: try hashServed(root + "/" + path, shownAs: path)))
                    guard files.count <= Self.maximumFiles else { throw RegistryError("MLflow lists more than \(Self.maximumFiles) files under \(source)") }
                }
            }
        }
        return files.sorted { $0.path < $1.path }
    }

    private func hashServed(_ destination: String, shownAs: String) throws(RegistryError) -> String {
        var hasher = SHA256()
        let response = try send(HTTPRequest(method: "GET", url: url("/api/2.0/mlflow-artifacts/artifacts/" + Self.escaped(destination)),
                                            headers: headers, timeout: Self.transferTimeout(1 << 30)),
                                what: "download of \(shownAs)") { chunk in hasher.update(bufferPointer: chunk) }
        guard (200..<300).contains(response.status) else {
            _ = try Self.decode(response, what: "download of \(shownAs)")
            throw RegistryError("MLflow answered \(response.status) to the download of \(shownAs)")
        }
        return ContentHash.hex(hasher.finalize())
    }
}
