import Dispatch
import SluiceCore
import SluiceHTTP
public import SluiceStore
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The artifact store's blobs in an S3 bucket, under `<prefix>sha256/<ab>/<hex>` as in the
/// state folder. A blob larger than one part goes up as a multipart upload whose parts are
/// joined only when all are in, so a cut upload never leaves a blob under a digest (an
/// unfinished upload is aborted; a bucket lifecycle rule for incomplete multipart uploads
/// removes what a killed process could not abort).
public struct S3BlobStore: RemoteBlobStore {
    let s3: S3Client

    public init(settings: ArtifactStorageSettings) {
        s3 = S3Client(settings: settings)
    }

    public var location: String { s3.settings.description }

    func key(_ digest: String) -> String {
        let hex = digest.hasPrefix("sha256:") ? String(digest.dropFirst(7)) : digest
        return "\(s3.settings.prefix)sha256/\(hex.prefix(2))/\(hex)"
    }

    public func contains(_ digest: String, size: Int64) throws(ArtifactStore.ArtifactError) -> Bool {
        let key = key(digest)
        let http = s3.client()
        do {
            let response = try S3Client.retrying { () throws(S3Client.Failure) in try s3.send(http, "HEAD", key, accept: [200, 404]) }
            // A blob of another length under a digest is not this blob: upload it again over it.
            return response.status == 200 && response.header("content-length").flatMap { Int64($0) } == size
        } catch {
            throw ArtifactStore.ArtifactError(description: error.description)
        }
    }

    public func upload(_ path: String, digest: String, size: Int64) throws(ArtifactStore.ArtifactError) {
        let key = key(digest)
        let http = s3.client()
        do {
            if size <= s3.settings.partSize {
                let hash = String(digest.dropFirst("sha256:".count))
                _ = try S3Client.retrying { () throws(S3Client.Failure) in try s3.send(http, "PUT", key, payloadHash: hash, bodyFile: path) }
            } else {
                try uploadInParts(http, path: path, key: key, size: size)
            }
        } catch {
            throw ArtifactStore.ArtifactError(description: error.description)
        }
    }

    /// CreateMultipartUpload, one UploadPart per part (each with its own payload hash), then
    /// CompleteMultipartUpload with the parts' ETags; any failure aborts the upload.
    func uploadInParts(_ http: HTTPClient, path: String, key: String, size: Int64) throws(S3Client.Failure) {
        let partSize = max(s3.settings.partSize, (size + S3Client.maxParts - 1) / S3Client.maxParts)
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw S3Client.Failure(description: "cannot read \(path): \(String(cString: strerror(errno)))", transient: false) }
        defer { close(fd) }
        let created = try S3Client.retrying { () throws(S3Client.Failure) in try s3.send(http, "POST", key, query: [("uploads", "")]) }
        guard let uploadID = S3XML.first("UploadId", in: created.body) else {
            throw S3Client.Failure(description: "POST \(s3.shown(key))?uploads answered without an UploadId: \(created.text.prefix(200))", transient: false)
        }
        do throws(S3Client.Failure) {
            let ranges = stride(from: Int64(0), to: size, by: Int(partSize)).map { $0..<min(size, $0 + partSize) }
            let etags = try uploadParts(ranges, fd: fd, path: path, key: key, uploadID: uploadID)
            let parts = etags.enumerated().map { "<Part><PartNumber>\($0.offset + 1)</PartNumber><ETag>\(S3XML.escape($0.element))</ETag></Part>" }
            let body = Array(("<CompleteMultipartUpload>" + parts.joined() + "</CompleteMultipartUpload>").utf8)
            let hash = ContentHash.sha256Hex(body)
            _ = try S3Client.retrying { () throws(S3Client.Failure) in
                try s3.send(http, "POST", key, query: [("uploadId", uploadID)], payloadHash: hash, body: body,
                            headers: [("Content-Type", "application/xml")])
            }
        } catch {
            do {
                _ = try s3.send(http, "DELETE", key, query: [("uploadId", uploadID)], accept: [200, 204, 404])
            } catch let abort {
                throw S3Client.Failure(description: "\(error.description); aborting the multipart upload failed too (\(abort.description))", transient: false)
            }
            throw error
        }
    }

    /// Parts at once, each on its own connection: S3 (and what emulates it) takes parts in
    /// parallel, and hashing a part (its payload hash) overlaps another's transfer.
    static let partWorkers = 4

    /// Uploads every part (its number is its index + 1), `partWorkers` at a time; returns their
    /// ETags in order. The first failure stops the workers from starting more parts.
    func uploadParts(_ ranges: [Range<Int64>], fd: Int32, path: String, key: String, uploadID: String) throws(S3Client.Failure) -> [String] {
        let results = Mutex<(etags: [String?], failure: S3Client.Failure?)>((Array(repeating: nil, count: ranges.count), nil))
        let s3 = self.s3
        DispatchQueue.concurrentPerform(iterations: min(Self.partWorkers, ranges.count)) { worker in
            let http = s3.client()
            for index in stride(from: worker, to: ranges.count, by: Self.partWorkers) {
                if results.withLock({ $0.failure != nil }) { return }
                let range = ranges[index]
                do throws(S3Client.Failure) {
                    let hash = try S3Client.sha256(fd, offset: range.lowerBound, count: Int64(range.count))
                    let query = [("partNumber", String(index + 1)), ("uploadId", uploadID)]
                    let response = try S3Client.retrying { () throws(S3Client.Failure) in
                        try s3.send(http, "PUT", key, query: query, payloadHash: hash, bodyFile: path, range: range)
                    }
                    guard let etag = response.header("etag") else {
                        throw S3Client.Failure(description: "PUT part \(index + 1) of \(s3.shown(key)) answered without an ETag", transient: false)
                    }
                    results.withLock { $0.etags[index] = etag }
                } catch {
                    results.withLock { if $0.failure == nil { $0.failure = error } }
                    return
                }
            }
        }
        let (etags, failure) = results.withLock { $0 }
        if let failure { throw failure }
        return etags.map { $0 ?? "" }
    }

    public func download(_ digest: String, receive: (UnsafeRawBufferPointer) throws(ArtifactStore.ArtifactError) -> Void) throws(ArtifactStore.ArtifactError) {
        let key = key(digest)
        let http = s3.client()
        // libcurl's callback cannot throw: after the first error of `receive` the rest of the body is
        // read and dropped, and that error is rethrown.
        var failed: ArtifactStore.ArtifactError?
        let collect: (UnsafeRawBufferPointer) -> Void = { bytes in
            guard failed == nil else { return }
            do throws(ArtifactStore.ArtifactError) { try receive(bytes) } catch { failed = error }
        }
        do {
            _ = try withoutActuallyEscaping(collect) { (escaping) throws(S3Client.Failure) in try s3.send(http, "GET", key, receive: escaping) }
        } catch {
            throw ArtifactStore.ArtifactError(description: error.description)
        }
        if let failed { throw failed }
    }
}
