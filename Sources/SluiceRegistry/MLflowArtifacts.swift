import Crypto
import Foundation
import SluiceCore
import SluiceHTTP
import SluiceStore
#if canImport(Glibc)
import Glibc
#endif

/// Uploads the model's files as a run's artifacts through the tracking server's
/// `mlflow-artifacts` proxy (the server holds the storage credentials, Sluice only its own
/// MLflow ones), then reads each back and checks its SHA-256 against Sluice's store.
extension MLflowClient {
    /// Files at least this large go up in parts when the server's artifact store supports it
    /// (`MLFLOW_MULTIPART_UPLOAD_MINIMUM_FILE_SIZE`, MLflow's default 500 MB).
    struct UploadOptions {
        var multipartMinimum: Int64 = 500 << 20
        var partSize: Int64 = 10 << 20

        init(environment: [String: String]) {
            if let v = environment["MLFLOW_MULTIPART_UPLOAD_MINIMUM_FILE_SIZE"].flatMap({ Int64($0) }), v > 0 { multipartMinimum = v }
            if let v = environment["MLFLOW_MULTIPART_UPLOAD_CHUNK_SIZE"].flatMap({ Int64($0) }), v >= 5 << 20 { partSize = v }
        }
    }

    /// The path under `/api/2.0/mlflow-artifacts/artifacts/` of a run's artifact URI, which
    /// must be served by the tracking server (`mlflow-artifacts:/1/<run>/artifacts`).
    static func proxiedPath(of artifactURI: String) throws(RegistryError) -> String {
        let scheme = "mlflow-artifacts:"
        guard artifactURI.hasPrefix(scheme) else {
            throw RegistryError("""
                the MLflow run stores its artifacts at \(artifactURI), which Sluice cannot write through the tracking server; \
                start 'mlflow server' with artifact serving (the default, '--serve-artifacts') and an '--artifacts-destination', \
                and use an experiment whose artifact location is mlflow-artifacts:/ (gate.experiment can name a new one)
                """)
        }
        var rest = artifactURI.dropFirst(scheme.count)
        if rest.hasPrefix("//") {  // mlflow-artifacts://host:port/path: the authority is the tracking server
            rest = rest.dropFirst(2)
            rest = rest.firstIndex(of: "/").map { rest[$0...] } ?? ""
        }
        let path = rest.split(separator: "/").joined(separator: "/")
        guard !path.isEmpty, !path.split(separator: "/").contains("..") else {
            throw RegistryError("MLflow gave the run the artifact URI \(artifactURI), which names no folder")
        }
        return path
    }

    /// Uploads `files` under `<run artifacts>/<name>` and verifies them; returns the source
    /// URI a model version points at.
    func upload(_ model: ModelFiles, run: TrackedRun, options: UploadOptions) throws(RegistryError) -> String {
        let root = try Self.proxiedPath(of: run.artifactURI)
        var multipart: Bool?
        for file in model.files {
            let relative = model.isDirectory ? model.name + "/" + file.path : file.path
            let destination = root + "/" + relative
            if file.size >= options.multipartMinimum {
                if multipart == nil { multipart = try serverUploadsInParts() }
                if multipart == true {
                    try uploadInParts(file, to: destination, shownAs: relative, partSize: options.partSize)
                    try verify(file, at: destination, shownAs: relative)
                    continue
                }
            }
            let response = try send(HTTPRequest(method: "PUT", url: url("/api/2.0/mlflow-artifacts/artifacts/" + Self.escaped(destination)),
                                                headers: headers + [("Content-Type", "application/octet-stream")], bodyFile: file.blob,
                                                timeout: Self.transferTimeout(file.size)),
                                    what: "upload of \(relative)")
            _ = try Self.decode(response, what: "upload of \(relative)")
            try verify(file, at: destination, shownAs: relative)
        }
        return run.artifactURI + "/" + model.name
    }

    /// Uploads one small text file (the model's signature bundle) under `<run artifacts>/<name>`;
    /// returns its URI.
    func upload(text: String, name: String, run: TrackedRun) throws(RegistryError) -> String {
        let destination = try Self.proxiedPath(of: run.artifactURI) + "/" + name
        let response = try send(HTTPRequest(method: "PUT", url: url("/api/2.0/mlflow-artifacts/artifacts/" + Self.escaped(destination)),
                                            headers: headers + [("Content-Type", "application/octet-stream")], body: Array(text.utf8),
                                            timeout: Self.transferTimeout(Int64(text.utf8.count))),
                                what: "upload of \(name)")
        _ = try Self.decode(response, what: "upload of \(name)")
        return run.artifactURI + "/" + name
    }

    /// Reads the uploaded copy back through the proxy and compares its SHA-256 with the stored one.
    func verify(_ file: ArtifactStore.StoredFile, at destination: String, shownAs: String) throws(RegistryError) {
        var hasher = SHA256()
        var size: Int64 = 0
        let response = try send(HTTPRequest(method: "GET", url: url("/api/2.0/mlflow-artifacts/artifacts/" + Self.escaped(destination)),
                                            headers: headers, timeout: Self.transferTimeout(file.size)),
                                what: "download of \(shownAs)") { chunk in
            hasher.update(bufferPointer: chunk)
            size += Int64(chunk.count)
        }
        guard (200..<300).contains(response.status) else {
            _ = try Self.decode(response, what: "download of \(shownAs) to check it")
            return
        }
        let digest = "sha256:" + ContentHash.hex(hasher.finalize())
        guard digest == file.digest, size == file.size else {
            throw RegistryError("the copy of \(shownAs) in MLflow is not what Sluice uploaded (\(size) bytes, \(digest.prefix(19))…; "
                                + "expected \(file.size) bytes, \(file.digest.prefix(19))…); the upload was cut or the artifact store changed it")
        }
    }

    /// MLflow 2.x/3.x advertise multipart support on `server-info`; an older server has no such
    /// endpoint and uploads in one request.
    func serverUploadsInParts() throws(RegistryError) -> Bool {
        do {
            let info = try request("GET", "/api/3.0/mlflow/server-info")
            return info["multipart_uploads_enabled"] as? Bool ?? false
        } catch where error.code == "HTTP 404" {
            return false
        }
    }

    /// MLflow's multipart protocol: `mpu/create` hands out one presigned URL per part (to the
    /// object store itself), each part is PUT there, then `mpu/complete` joins them by ETag;
    /// any failure aborts the upload so no parts are left behind.
    func uploadInParts(_ file: ArtifactStore.StoredFile, to destination: String, shownAs: String, partSize: Int64) throws(RegistryError) {
        let (folder, name) = Self.split(destination)
        let parts = Int((file.size + partSize - 1) / partSize)
        let created = try request("POST", "/api/2.0/mlflow-artifacts/mpu/create/" + Self.escaped(folder),
                                  body: ["path": name, "num_parts": parts])
        guard let uploadID = created["upload_id"] as? String, let credentials = created["credentials"] as? [[String: Any]],
              credentials.count == parts else {
            throw RegistryError("MLflow mpu/create for \(shownAs) answered without an upload id and \(parts) part URLs")
        }
        do throws(RegistryError) {
            let input = open(file.blob, O_RDONLY | O_CLOEXEC)
            guard input >= 0 else { throw RegistryError("cannot read the stored \(shownAs): \(String(cString: strerror(errno)))") }
            defer { close(input) }
            var done: [[String: Any]] = []
            for credential in credentials {
                guard let number = (credential["part_number"] as? Int).map(Int64.init) ?? (credential["part_number"] as? String).flatMap({ Int64($0) }),
                      number >= 1, number <= Int64(parts), let target = credential["url"] as? String else {
                    throw RegistryError("MLflow mpu/create for \(shownAs) gave a part without a number or URL")
                }
                let offset = (number - 1) * partSize
                let bytes = try Self.read(input, offset: offset, count: Int(min(partSize, file.size - offset)), shownAs: shownAs)
                let extra = (credential["headers"] as? [String: String] ?? [:]).map { (name: $0.key, value: $0.value) }
                let response = try send(HTTPRequest(method: "PUT", url: target, headers: extra, body: bytes, timeout: Self.transferTimeout(Int64(bytes.count))),
                                        what: "upload of part \(number) of \(shownAs)")
                guard (200..<300).contains(response.status) else {
                    throw RegistryError("MLflow's artifact store refused part \(number) of \(shownAs): HTTP \(response.status) \(response.text.prefix(200))")
                }
                done.append(["part_number": number, "etag": response.header("etag") ?? "", "url": target])
            }
            _ = try request("POST", "/api/2.0/mlflow-artifacts/mpu/complete/" + Self.escaped(folder),
                            body: ["path": name, "upload_id": uploadID, "parts": done])
        } catch {
            do {
                _ = try request("POST", "/api/2.0/mlflow-artifacts/mpu/abort/" + Self.escaped(folder), body: ["path": name, "upload_id": uploadID])
            } catch let abort {
                throw RegistryError("\(error.description); aborting the multipart upload failed too: \(abort.description)", code: error.code)
            }
            throw error
        }
    }

    static func read(_ fd: Int32, offset: Int64, count: Int, shownAs: String) throws(RegistryError) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        var got = 0
        while got < count {
            let n = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + got, count - got, off_t(offset) + off_t(got)) }
            if n < 0, errno == EINTR { continue }
            guard n > 0 else { throw RegistryError("reading the stored \(shownAs) failed at byte \(offset + Int64(got))") }
            got += n
        }
        return bytes
    }

    static func split(_ path: String) -> (folder: String, name: String) {
        guard let slash = path.lastIndex(of: "/") else { return ("", path) }
        return (String(path[..<slash]), String(path[path.index(after: slash)...]))
    }

    /// Each path segment percent-encoded, the slashes kept.
    static func escaped(_ path: String) -> String {
        path.split(separator: "/").map { URLEncoding.component(String($0)) }.joined(separator: "/")
    }

    /// A minute, plus a second for every 4 MB (a 2 GB model gets ~10 minutes).
    static func transferTimeout(_ bytes: Int64) -> Double { 60 + Double(bytes) / Double(4 << 20) }
}
