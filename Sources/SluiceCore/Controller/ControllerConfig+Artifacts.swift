/// `artifacts: { s3: { bucket, prefix, endpoint, region, credentials-env } }` in the controller
/// configuration: the bucket behind the state folder's artifact store, for `sluice watch`
/// (other commands read `SLUICE_ARTIFACTS_URL`; see `ArtifactStorageSettings`).
extension ControllerConfigDecoder {
    public static let artifactsKeys = ["s3"]
    public static let s3Keys = ["bucket", "prefix", "endpoint", "region", "credentials-env"]
    public static let credentialsEnvKeys = ["access-key-id", "secret-access-key", "session-token"]

    static func decodeArtifacts(_ node: Node, _ reader: inout NodeReader) -> ArtifactBucket? {
        guard let outer = reader.mapping(node, what: "'artifacts'", allowed: artifactsKeys) else { return nil }
        guard let s3Node = Fields(outer)["s3"] else {
            reader.error(node, "'artifacts' needs 's3'", hint: "e.g. artifacts: { s3: { bucket: ml-artifacts, prefix: sluice } }")
            return nil
        }
        guard let fields = reader.mapping(s3Node, what: "'artifacts.s3'", allowed: s3Keys) else { return nil }
        let f = Fields(fields)
        guard let bucketNode = f["bucket"], let name = reader.nonEmptyString(bucketNode, what: "'artifacts.s3.bucket'") else {
            if f["bucket"] == nil { reader.error(s3Node, "'artifacts.s3' needs 'bucket'") }
            return nil
        }
        let prefix = f["prefix"].flatMap { reader.string($0, what: "'artifacts.s3.prefix'") } ?? ""
        let location = s3Node.location
        var bucket = ArtifactBucket(url: "s3://\(name)/\(prefix)", what: "artifacts.s3 at \(location.file):\(location.line):\(location.column)",
                                    endpoint: f["endpoint"].flatMap { reader.nonEmptyString($0, what: "'artifacts.s3.endpoint'") },
                                    region: f["region"].flatMap { reader.nonEmptyString($0, what: "'artifacts.s3.region'") })
        if let node = f["credentials-env"], let names = reader.mapping(node, what: "'artifacts.s3.credentials-env'", allowed: credentialsEnvKeys) {
            for (key, _, value) in names {
                guard let variable = reader.nonEmptyString(value, what: "'artifacts.s3.credentials-env.\(key)'") else { continue }
                switch key {
                case "access-key-id": bucket.accessKeyIDEnv = variable
                case "secret-access-key": bucket.secretAccessKeyEnv = variable
                default: bucket.sessionTokenEnv = variable
                }
            }
        }
        // The URL, prefix and endpoint are checked now, with the file's location; the key when the controller starts.
        do throws(LoadError) { _ = try bucket.checked() } catch {
            reader.error(s3Node, error.message, hint: error.hint)
            return nil
        }
        return bucket
    }
}
