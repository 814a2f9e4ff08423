import Foundation
import Testing
import SluiceTestSupport
@testable import SluiceKube

/// kubeconfig is read as kubectl reads it.
@Suite struct KubeConfigTests {
    @Test func mergesFilesFirstWinsAndResolvesPathsRelativeToTheirFile() throws {
        let dir = TemporaryDirectory()
        dir.write("certs/ca.crt", "CA-PEM")
        dir.write("certs/token", "  file-token\n")
        let a = dir.write("a.yaml", """
            apiVersion: v1
            kind: Config
            current-context: staging
            clusters:
              - name: staging
                cluster: { server: "https://staging:6443", certificate-authority: certs/ca.crt }
            users:
              - name: bot
                user: { tokenFile: certs/token }
            contexts:
              - name: staging
                context: { cluster: staging, user: bot, namespace: ml }
            """)
        let b = dir.write("b.yaml", """
            current-context: prod
            clusters:
              - name: prod
                cluster: { server: "https://prod:6443", insecure-skip-tls-verify: true }
              - name: staging
                cluster: { server: "https://ignored" }
            users:
              - name: admin
                user: { client-certificate-data: \(Data("CERT".utf8).base64EncodedString()), client-key-data: \(Data("KEY".utf8).base64EncodedString()) }
            contexts:
              - name: prod
                context: { cluster: prod, user: admin }
            """)
        let env = ["KUBECONFIG": "\(a):\(dir.path)/missing.yaml:\(b)"]
        let current = try KubeConfig.load(environment: env)
        #expect(current.context == "staging")
        #expect(current.server == "https://staging:6443")
        #expect(current.tls.caFile == dir.path + "/certs/ca.crt")
        #expect(current.token == "file-token")
        #expect(current.namespace == "ml")

        let prod = try KubeConfig.load(environment: env, context: "prod")
        #expect(prod.server == "https://prod:6443")
        #expect(prod.tls.insecureSkipVerify)
        #expect(prod.tls.clientCertificatePEM == Array("CERT".utf8))
        #expect(prod.tls.clientKeyPEM == Array("KEY".utf8))
        #expect(prod.namespace == "default")
        #expect(prod.token == nil)
    }

    @Test func unknownContextsSuggestTheNearestName() throws {
        let dir = TemporaryDirectory()
        let a = dir.write("a.yaml", "current-context: x\nclusters: []\ncontexts: [ { name: staging, context: { cluster: c } } ]\n")
        #expect { _ = try KubeConfig.load(environment: ["KUBECONFIG": a], context: "stagin") } throws: {
            "\($0)".contains("context 'stagin' is not in") && "\($0)".contains("did you mean 'staging'")
        }
    }

    @Test func inClusterUsesTheServiceAccount() throws {
        let dir = TemporaryDirectory()
        dir.write("token", "sa-token\n")
        dir.write("namespace", "ml")
        dir.write("ca.crt", "CA")
        let config = try #require(try KubeConfig.inCluster(["KUBERNETES_SERVICE_HOST": "10.0.0.1", "KUBERNETES_SERVICE_PORT": "443"], root: dir.path))
        #expect(config.server == "https://10.0.0.1:443")
        #expect(config.token == "sa-token")
        #expect(config.namespace == "ml")
        #expect(config.tls.caFile == dir.path + "/ca.crt")
    }

    @Test func rolloutStatusFollowsKubectlsRules() {
        func deployment(_ gen: Int, _ status: [String: Any]) -> [String: Any] {
            ["kind": "Deployment", "metadata": ["name": "web", "generation": gen], "spec": ["replicas": 2], "status": status]
        }
        #expect(RolloutStatus.of(deployment(2, ["observedGeneration": 1])) == .waiting("waiting for deployment \"web\" spec update to be observed"))
        #expect(RolloutStatus.of(deployment(1, ["observedGeneration": 1, "replicas": 2, "updatedReplicas": 1])) == .waiting("deployment \"web\": 1 of 2 new replicas updated"))
        #expect(RolloutStatus.of(deployment(1, ["observedGeneration": 1, "replicas": 3, "updatedReplicas": 2, "availableReplicas": 2])) == .waiting("deployment \"web\": 1 old replicas pending termination"))
        #expect(RolloutStatus.of(deployment(1, ["observedGeneration": 1, "replicas": 2, "updatedReplicas": 2, "availableReplicas": 2])) == .ready)
        #expect(RolloutStatus.of(deployment(1, ["observedGeneration": 1, "conditions": [["type": "Progressing", "reason": "ProgressDeadlineExceeded"]]]))
                == .failed("deployment \"web\" exceeded its progress deadline"))
        #expect(RolloutStatus.of(["kind": "Job", "metadata": ["name": "j"], "status": ["conditions": [["type": "Complete", "status": "True"]]]]) == .ready)
        #expect(RolloutStatus.of(["kind": "ConfigMap", "metadata": ["name": "c"]]) == .ready)
    }
}
