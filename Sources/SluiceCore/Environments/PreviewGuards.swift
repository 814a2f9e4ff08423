/// The objects Sluice puts around a preview in its own namespace: the Namespace, a
/// ResourceQuota with a LimitRange (so pods that declare no resources are admitted with
/// defaults instead of refused), and a NetworkPolicy that denies egress except DNS, the
/// namespace itself and the CIDRs `preview.egress` allows.
public enum PreviewGuards {
    public static let quotaName = "sluice-preview"
    public static let policyName = "sluice-preview-egress"
    public static let previewLabel = "sluice.dev/preview"

    /// The manifests, as YAML documents (JSON flow style: every value is quoted).
    public static func yaml(namespace: String, number: Int, preview: PreviewSpec) -> String {
        var docs = [#"{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": \#(q(namespace)), "labels": {\#(q(previewLabel)): \#(q(String(number)))}}}"#]
        if let hard = preview.quota {
            let limits = hard.map { "\(q($0.key)): \(q($0.value))" }.joined(separator: ", ")
            docs.append(#"{"apiVersion": "v1", "kind": "ResourceQuota", "metadata": {"name": \#(q(quotaName))}, "spec": {"hard": {\#(limits)}}}"#)
            docs.append(#"""
                {"apiVersion": "v1", "kind": "LimitRange", "metadata": {"name": \#(q(quotaName))}, "spec": {"limits": [{"type": "Container",
                 "defaultRequest": {"cpu": "100m", "memory": "128Mi"}, "default": {"cpu": "500m", "memory": "512Mi"}}]}}
                """#)
        }
        if let allowed = preview.egress {
            let blocks = allowed.map { #"{"to": [{"ipBlock": {"cidr": \#(q($0))}}]}"# }
            let rules = [#"{"to": [{"podSelector": {}}]}"#,
                         #"{"ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]}"#] + blocks
            docs.append(#"""
                {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": \#(q(policyName))},
                 "spec": {"podSelector": {}, "policyTypes": ["Egress"], "egress": [\#(rules.joined(separator: ", "))]}}
                """#)
        }
        return docs.joined(separator: "\n---\n") + "\n"
    }

    /// A JSON string literal (namespace names and CIDRs are checked, quota keys and values are the repository's).
    static func q(_ text: String) -> String {
        var out = "\""
        for c in text.unicodeScalars {
            switch c {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case _ where c.value < 0x20: out += "\\u" + String(repeating: "0", count: 4 - String(c.value, radix: 16).count) + String(c.value, radix: 16)
            default: out.unicodeScalars.append(c)
            }
        }
        return out + "\""
    }
}
