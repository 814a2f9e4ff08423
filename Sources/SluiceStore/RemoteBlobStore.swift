/// A second home for the artifact store's blobs that outlives the state folder (an S3 bucket):
/// the folder is then a cache, filled from here when a blob is missing (a new replica, a lost
/// volume). Blobs are addressed by their digest (`sha256:<hex>`) in both.
public protocol RemoteBlobStore: Sendable {
    /// Where the blobs are, for messages (no credentials).
    var location: String { get }
    /// Whether the blob is there whole (`size` bytes).
    func contains(_ digest: String, size: Int64) throws(ArtifactStore.ArtifactError) -> Bool
    /// Copies the local file `path`, whose content is `digest` and `size` bytes, there. An upload
    /// that is cut leaves no blob under the digest.
    func upload(_ path: String, digest: String, size: Int64) throws(ArtifactStore.ArtifactError)
    /// Hands the blob's bytes to `receive` as they arrive; throws when it is not there or the
    /// transfer fails (the caller checks the digest).
    func download(_ digest: String, receive: (UnsafeRawBufferPointer) throws(ArtifactStore.ArtifactError) -> Void) throws(ArtifactStore.ArtifactError)
}
