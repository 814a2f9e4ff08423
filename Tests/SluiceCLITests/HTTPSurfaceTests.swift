import Foundation
import Testing
import SluiceTestSupport

/// What the controller's HTTP server answers to a browser and to a replayed webhook.
@Suite struct HTTPSurfaceTests {
    let sluice = RepositoryLayout.sluiceBinary

    @Test func pagesCarrySecurityHeadersAndReplayedDeliveriesAreIgnored() throws {
        let repo = try TestRepository()
        try repo.commit("one", files: ["sluice.yaml": "version: 1\nstages:\n  hello: { run: echo hello }\n"])
        let dir = TemporaryDirectory(prefix: "sluice-http")
        let config = dir.write("controller.yaml", "listen: 127.0.0.1:0\ninterval: 10m\nrepositories:\n  - { name: demo, url: \(repo.path), webhook-secret-env: SLUICE_TEST_SECRET }\n")
        let watch = try BackgroundProcess(sluice, ["watch", "--config", config, "--state", dir.path + "/state"], readyPrefix: "sluice: listening on 127.0.0.1:",
                                          environment: ["SLUICE_TEST_SECRET": "s3cret"])
        let base = "http://127.0.0.1:\(watch.readyLine.split(separator: ",")[0])"
        for path in ["/", "/runs/1", "/no-such-page"] {
            let headers = try ProcessRunner.run("curl", ["-s", "-D", "-", "-o", "/dev/null", base + path]).stdout.lowercased()
            #expect(headers.contains("content-security-policy: default-src 'none'"), "\(path): \(headers)")
            #expect(headers.contains("x-content-type-options: nosniff"))
            #expect(headers.contains("x-frame-options: deny"))
            #expect(headers.contains("referrer-policy: no-referrer"))
        }

        let body = "{\"ref\": \"refs/heads/main\"}"
        func deliver() throws -> String {
            try ProcessRunner.run("curl", ["-s", "-X", "POST", base + "/webhooks/demo", "-H", "X-GitHub-Event: push", "-H", "X-GitHub-Delivery: 72d3162e-cc78",
                                           "-H", "X-Hub-Signature-256: sha256=\(WatchTests.signature(body, "s3cret"))", "-d", body, "-w", " %{http_code}"]).stdout
        }
        #expect(try deliver().hasSuffix(" 202"))
        let again = try deliver()
        #expect(again.hasSuffix(" 200") && again.contains("delivery 72d3162e-cc78 was already received; ignored"), "\(again)")
        #expect(try ProcessRunner.run("curl", ["-s", base + "/metrics"]).stdout.contains("sluice_webhooks_total{result=\"replayed\"} 1"))
        withExtendedLifetime(watch) {}
    }
}
