import SluiceCore
import SluiceStore
import Testing
@testable import SluiceController

/// When a preview goes, where it runs, and what surrounds it — decided without a cluster.
@Suite struct PreviewRulesTests {
    func preview(state: RunStore.Preview.State = .ready, updated: Double = 1000, ttl: Double = 3600) -> RunStore.Preview {
        RunStore.Preview(repository: "r", number: 7, ref: "refs/pull/7/head", commit: "c", runId: 1, target: "kubernetes", place: "ns", context: nil,
                         environment: "staging", state: state, detail: "", createdAt: updated, updatedAt: updated, expiresAt: updated + ttl)
    }

    @Test func aPreviewGoesWhenClosedGoneExpiredOrInterrupted() {
        let p = preview()
        #expect(PreviewReconciler.expiry(of: p, open: [7], refExists: true, running: false, now: 2000) == nil)
        #expect(PreviewReconciler.expiry(of: p, open: nil, refExists: true, running: false, now: 2000) == nil, "no forge to ask: refs and ttls decide")
        #expect(PreviewReconciler.expiry(of: p, open: [8], refExists: true, running: false, now: 2000) == "the merge request was closed or merged")
        #expect(PreviewReconciler.expiry(of: p, open: nil, refExists: false, running: false, now: 2000)?.hasPrefix("the merge request's ref is gone") == true)
        #expect(PreviewReconciler.expiry(of: p, open: [7], refExists: true, running: false, now: 4600)?.hasPrefix("it outlived its ttl") == true)
        let interrupted = preview(state: .deploying)
        #expect(PreviewReconciler.expiry(of: interrupted, open: [7], refExists: true, running: true, now: 2000) == nil, "its run is deploying it now")
        #expect(PreviewReconciler.expiry(of: interrupted, open: [7], refExists: true, running: false, now: 2000)?.hasPrefix("its deploy was interrupted") == true)
    }

    @Test func namespacesAreDNSLabelsThatKeepTheNumber() {
        let spec = PreviewSpec(environment: "staging", location: SourceLocation(file: "sluice.yaml", line: 1, column: 1))
        #expect(spec.namespace(repository: "Iris_Model", number: 12) == "sluice-preview-iris-model-12")
        let long = spec.namespace(repository: String(repeating: "very-long-name-", count: 8), number: 4321)
        #expect(long.count <= 63 && long.hasSuffix("-4321") && !long.contains("--"), "\(long)")
        #expect(PreviewSpec.branch(number: 3) == "sluice/preview/3")
    }

    @Test func everyObjectIsConfinedToThePreviewsNamespace() throws {
        let deploy = DeploySpec(manifests: "m", target: .kubernetes, environment: "preview-7", namespace: "sluice-preview-iris-7",
                                location: SourceLocation(file: "sluice.yaml", line: 1, column: 1))
        let facts = DeployFacts(model: "m", version: "pr-7", digest: "d", uri: "u", commit: String(repeating: "a", count: 40), datasets: [:],
                                environment: "preview-7", namespace: "sluice-preview-iris-7", run: 1)
        let objects = try ManifestRenderer.render("""
            apiVersion: v1
            kind: ConfigMap
            metadata: { name: a, namespace: ml-staging }
            ---
            apiVersion: v1
            kind: ConfigMap
            metadata: { name: b }
            """, file: "m/a.yaml", deploy: deploy, facts: facts)
        let confined = try PreviewDeployer.confined(objects, to: "sluice-preview-iris-7")
        #expect(confined.map(\.namespace) == ["sluice-preview-iris-7", "sluice-preview-iris-7"])
        #expect(NodeJSON.render(confined[0].node).contains("\"namespace\":\"sluice-preview-iris-7\""))
        let cluster = try ManifestRenderer.render("apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: { name: c }\n",
                                                  file: "m/c.yaml", deploy: deploy, facts: facts)
        #expect(throws: LoadError.self) { try PreviewDeployer.confined(cluster, to: "sluice-preview-iris-7") }
    }

    @Test func theGuardsAreTheQuotaLimitRangeAndEgressPolicyAsked() throws {
        var spec = PreviewSpec(environment: "staging", location: SourceLocation(file: "sluice.yaml", line: 1, column: 1))
        spec.egress = ["10.20.0.0/16"]
        let yaml = PreviewGuards.yaml(namespace: "sluice-preview-iris-7", number: 7, preview: spec)
        #expect(yaml.contains(#""kind": "ResourceQuota""#) && yaml.contains(#""requests.cpu": "2""#) && yaml.contains(#""kind": "LimitRange""#))
        #expect(yaml.contains(#"{"ipBlock": {"cidr": "10.20.0.0/16"}}"#) && yaml.contains(#""policyTypes": ["Egress"]"#))
        spec.quota = nil
        spec.egress = nil
        let bare = PreviewGuards.yaml(namespace: "sluice-preview-iris-7", number: 7, preview: spec)
        #expect(!bare.contains("ResourceQuota") && !bare.contains("NetworkPolicy") && bare.contains(#""kind": "Namespace""#))
    }
}
