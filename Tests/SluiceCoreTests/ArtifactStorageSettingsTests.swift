import Testing
import SluiceCore

/// `SLUICE_ARTIFACTS_URL` and the AWS variables, read as every command reads them.
@Suite struct ArtifactStorageSettingsTests {
    let keys = ["AWS_ACCESS_KEY_ID": "AKIA", "AWS_SECRET_ACCESS_KEY": "secret"]

    func read(_ env: [String: String]) throws(LoadError) -> ArtifactStorageSettings? {
        try ArtifactStorageSettings.from(environment: env)
    }

    @Test func unsetMeansTheStateFolderOnly() throws {
        #expect(try read([:]) == nil)
        #expect(try read(["SLUICE_ARTIFACTS_URL": "  "]) == nil)
    }

    @Test func theURLTheEndpointAndTheRegion() throws {
        let aws = try #require(try read(keys.merging(["SLUICE_ARTIFACTS_URL": "s3://ml-artifacts/sluice/prod/", "AWS_DEFAULT_REGION": "eu-west-1"]) { $1 }))
        #expect(aws.bucket == "ml-artifacts")
        #expect(aws.prefix == "sluice/prod/")
        #expect(aws.endpoint == nil)
        #expect(aws.region == "eu-west-1")
        #expect(aws.partSize == 16 << 20)
        #expect(aws.description == "s3://ml-artifacts/sluice/prod/ (AWS eu-west-1)")

        let minio = try #require(try read(keys.merging(["SLUICE_ARTIFACTS_URL": "s3://models", "AWS_ENDPOINT_URL": "https://minio.lan:9000/",
                                                         "AWS_REGION": "local", "AWS_SESSION_TOKEN": "tok", "SLUICE_S3_PART_SIZE_MB": "64"]) { $1 }))
        #expect(minio.prefix == "")
        #expect(minio.endpoint == "https://minio.lan:9000")
        #expect(minio.region == "local")
        #expect(minio.sessionToken == "tok")
        #expect(minio.partSize == 64 << 20)
        // Sluice's own variable wins over the AWS ones.
        let own = try #require(try read(keys.merging(["SLUICE_ARTIFACTS_URL": "s3://models", "AWS_ENDPOINT_URL": "https://a", "SLUICE_S3_ENDPOINT_URL": "http://b:9000"]) { $1 }))
        #expect(own.endpoint == "http://b:9000")
    }

    @Test func whatIsWrongIsSaidWithWhatToSet() {
        func message(_ env: [String: String]) -> String {
            do { _ = try read(keys.merging(env) { $1 }); return "accepted" } catch { return error.description }
        }
        #expect(message(["SLUICE_ARTIFACTS_URL": "gs://bucket"]).contains("is not an s3:// URL"))
        #expect(message(["SLUICE_ARTIFACTS_URL": "s3://Bad_Bucket/x"]).contains("'Bad_Bucket', which is not a valid S3 bucket name"))
        #expect(message(["SLUICE_ARTIFACTS_URL": "s3://ok-bucket/a/../b"]).contains("prefix"))
        #expect(message(["SLUICE_ARTIFACTS_URL": "s3://ok-bucket/a b"]).contains("prefix"))
        #expect(message(["SLUICE_ARTIFACTS_URL": "s3://ok-bucket", "SLUICE_S3_ENDPOINT_URL": "minio:9000"]).contains("not an http(s) URL"))
        #expect(message(["SLUICE_ARTIFACTS_URL": "s3://ok-bucket", "SLUICE_S3_PART_SIZE_MB": "4"]).contains("from 5 to 5120"))
        #expect(message(["SLUICE_ARTIFACTS_URL": "s3://ok-bucket", "SLUICE_S3_PART_SIZE_MB": "99999999999999999999"]).contains("from 5 to 5120"))
        do {
            _ = try read(["SLUICE_ARTIFACTS_URL": "s3://ok-bucket"])
            Issue.record("accepted without credentials")
        } catch {
            #expect(error.description.contains("AWS_ACCESS_KEY_ID or AWS_SECRET_ACCESS_KEY is not"))
        }
    }
}
