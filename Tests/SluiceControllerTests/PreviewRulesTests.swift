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

extension PreviewRulesTests {
    func errors(_ preview: String, environments: Bool = true, gate: Bool = true) -> [String] {
        let text = """
            version: 1
            stages:
              train: { run: "python train.py", outputs: [model.pkl], metrics: metrics.json }
            \(gate ? "gate: { model: model.pkl, policy: policies/p.yaml }" : "")
            \(environments ? "environments:\n  - { name: staging, manifests: manifests/ }\n  - { name: production, manifests: manifests/ }" : "deploy: { manifests: manifests/ }")
            preview: \(preview)
            """
        return DiagnosticRenderer.sorted(SpecLoader.load(bytes: Array(text.utf8), file: "sluice.yaml", paths: nil).diagnostics)
            .filter { $0.severity == .error }.map(DiagnosticRenderer.line)
    }

    @Test func aPreviewSpecDecodesAndBadOnesAreLocated() throws {
        let text = """
            version: 1
            stages:
              train: { run: "python train.py", outputs: [model.pkl], metrics: metrics.json }
            gate: { model: model.pkl, policy: policies/p.yaml }
            environments:
              - { name: staging, manifests: manifests/ }
              - { name: production, manifests: manifests/ }
            preview: { environment: staging, on: always, ttl: 24h, max: 5, namespace: "pr-{{number}}", url: "https://pr-{{number}}.example.com",
                       quota: { pods: 4 }, egress: all }
            """
        let preview = try #require(SpecLoader.load(bytes: Array(text.utf8), file: "sluice.yaml", paths: nil).spec?.preview)
        #expect(preview.environment == "staging" && preview.on == .always && preview.ttlSeconds == 86400 && preview.max == 5)
        #expect(preview.namespace(repository: "iris", number: 3) == "pr-3" && preview.url(number: 3) == "https://pr-3.example.com")
        #expect(preview.quota == [KeyValue("pods", "4")] && preview.egress == nil)

        #expect(errors("{ environment: stagin }") == ["sluice.yaml:8:25: error: 'preview.environment' names 'stagin', which is not an environment of this file; did you mean 'staging'?"])
        #expect(errors("{ environment: production }", environments: false) == [], "the deploy: shorthand's environment")
        #expect(errors("{ environment: staging }", gate: false).first?.contains("'preview' deploys the gate's candidate, and there is no 'gate'") == true)
        #expect(errors("{ environment: staging, on: merged }").first?.contains("unknown 'preview.on' 'merged'") == true)
        #expect(errors("{ environment: staging, namespace: previews }").first?.contains("must contain {{number}}") == true)
        #expect(errors("{ environment: staging, egress: [10.0.0.0/33] }").first?.contains("'10.0.0.0/33' in 'preview.egress' is not a CIDR") == true)
        #expect(errors("{ environment: staging, ttl: soon }").first?.contains("'soon' is not a duration") == true)
        #expect(errors("{ environment: staging, max: 0 }").first?.contains("'preview.max' must be between 1 and 100") == true)
        let unknown = errors("{ environment: staging, namespaces: x }")
        #expect(unknown.first?.contains("unknown key 'namespaces'") == true, "\(unknown)")
    }
}

extension PreviewRulesTests {
    /// The same manifests serve every environment: `{{^preview.number}}` renders only outside
    /// previews (where a cluster-scoped object belongs), `{{#preview.number}}` only in them.
    @Test func sectionsTellPreviewsFromEnvironments() throws {
        var facts = DeployFacts(model: "m", version: "3", digest: "d", uri: "u", commit: String(repeating: "a", count: 40), datasets: [:],
                                environment: "staging", namespace: "ml", run: 1)
        let template = "{{^preview.number}}outside{{/preview.number}}{{#preview.number}}preview {{preview.number}} at {{preview.url}}{{/preview.number}}"
        #expect(try ManifestTemplate.render(template, file: "m.yaml", facts: facts) == "outside")
        facts.preview = DeployFacts.Preview(number: 7, url: "http://pr-7.example.com")
        #expect(try ManifestTemplate.render(template, file: "m.yaml", facts: facts) == "preview 7 at http://pr-7.example.com")
    }
}
