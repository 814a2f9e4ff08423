import SluiceCore
import Testing
@testable import SluiceController

/// What a stage's output is masked with beyond its declared secrets.
@Suite struct StageEnvironmentTests {
    @Test func theRunStoresDatabaseURLAndItsPasswordAreMasked() {
        let controller = ["SLUICE_DATABASE_URL": "postgres://sluice:s3cret%21pw@db.internal/sluice", "HF_TOKEN": "hf-value", "HOME": "/root"]
        let masker = SecretMasker(secrets: StageEnvironment.secretLooking(controller))
        let masked = masker.mask("url postgres://sluice:s3cret%21pw@db.internal/sluice, password s3cret!pw, token hf-value, home /root")
        #expect(!masked.contains("s3cret") && !masked.contains("hf-value"), "\(masked)")
        #expect(masked.contains("home /root"))
    }
}
