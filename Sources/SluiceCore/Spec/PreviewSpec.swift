/// `preview:`: a merge request's candidate deployed where a reviewer can try it, with the
/// settings of one of the repository's environments (target, manifests, values, checks), in
/// its own namespace (kubernetes target: created by Sluice with a quota and a default-deny
/// egress policy) or on its own branch (`sluice/preview/<number>`), replaced by each push and
/// deleted when the merge request closes or its `ttl` passes. Previews never touch the
/// registry's production or any environment's record.
public struct PreviewSpec: Hashable, Sendable {
    public enum When: String, Hashable, Sendable, CaseIterable {
        /// Candidates the gate did not reject.
        case passed
        /// Every candidate.
        case always
    }

    /// The environment whose settings are copied.
    public var environment: String
    public var on: When = .passed
    /// How long a preview lives after the last push to its merge request.
    public var ttlSeconds = 72 * 3600
    /// Previews per repository at once; beyond it the oldest is removed.
    public var max = 3
    /// The namespace (kubernetes target); `{{repository}}` and `{{number}}` are filled in.
    public var namespace = "sluice-preview-{{repository}}-{{number}}"
    /// Where the preview answers, for reviewers and checks (`{{preview.url}}`, `SLUICE_ENV_URL`); `{{number}}` filled in.
    public var url: String?
    /// The namespace's ResourceQuota (`hard`), nil: none.
    public var quota: [KeyValue]? = PreviewSpec.defaultQuota
    /// Egress allowed beyond DNS and the namespace itself (CIDRs); nil: egress is not restricted.
    public var egress: [String]? = []
    public var location: SourceLocation

    public static let defaultQuota = [KeyValue("requests.cpu", "2"), KeyValue("limits.cpu", "4"), KeyValue("requests.memory", "4Gi"),
                                      KeyValue("limits.memory", "8Gi"), KeyValue("pods", "20")]

    public init(environment: String, location: SourceLocation) {
        self.environment = environment
        self.location = location
    }

    /// The namespace of merge request `number` of `repository` (a DNS label: lower case, at most 63 characters).
    public func namespace(repository: String, number: Int) -> String {
        let name = namespace.replacingOccurrences(of: "{{repository}}", with: Self.label(repository))
            .replacingOccurrences(of: "{{number}}", with: String(number))
        return Self.label(name)
    }

    public func url(number: Int) -> String? { url?.replacingOccurrences(of: "{{number}}", with: String(number)) }

    public static func branch(number: Int) -> String { "sluice/preview/\(number)" }

    /// `text` as a DNS label: lower-case letters, digits and '-', at most 63, no '-' at either end.
    static func label(_ text: String) -> String {
        var out = ""
        for c in text.lowercased() {
            let ok = ("a"..."z").contains(c) || ("0"..."9").contains(c)
            if ok { out.append(c) } else if out.last != "-", !out.isEmpty { out.append("-") }
        }
        if out.count > 63 {
            // Keep the end (the number) and as much of the start as fits.
            func trimmed(_ part: Substring) -> String {
                var t = String(part)
                while t.hasPrefix("-") { t.removeFirst() }
                while t.hasSuffix("-") { t.removeLast() }
                return t
            }
            out = trimmed(out.prefix(42)) + "-" + trimmed(out.suffix(20))
        }
        while out.hasSuffix("-") { out.removeLast() }
        return out.isEmpty ? "preview" : out
    }
}
