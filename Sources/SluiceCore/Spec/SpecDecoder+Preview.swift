/// `preview:` — merge requests' candidates deployed for review.
extension SpecDecoder {
    mutating func decodePreview(_ node: Node, environments: [EnvironmentSpec], deploy: DeploySpec?) -> PreviewSpec? {
        guard let fields = reader.mapping(node, what: "'preview'", allowed: SpecKeys.preview) else { return nil }
        let f = Fields(fields)
        let known = environments.isEmpty ? deploy.map { [$0.environment] } ?? [] : environments.map(\.name)
        guard let e = f["environment"], let name = reader.nonEmptyString(e, what: "'preview.environment'") else {
            if f["environment"] == nil {
                reader.error(node, "'preview' needs the 'environment' whose settings it copies",
                             hint: known.first.map { "e.g. 'environment: \($0)'" } ?? "declare 'deploy' or 'environments' first")
            }
            return nil
        }
        guard known.contains(name) else {
            reader.error(e, "'preview.environment' names '\(name)', which is not an environment of this file",
                         hint: Suggestion.hint(for: name, in: known) ?? (known.isEmpty ? "declare 'deploy' or 'environments'" : "one of: \(known.joined(separator: ", "))"))
            return nil
        }
        var preview = PreviewSpec(environment: name, location: node.location)
        if let o = f["on"], let text = reader.string(o, what: "'preview.on'") {
            if let when = PreviewSpec.When(rawValue: text) { preview.on = when } else {
                reader.error(o, "unknown 'preview.on' '\(text)'", hint: "passed (candidates the gate did not reject) or always")
            }
        }
        if let t = f["ttl"], let text = reader.string(t, what: "'preview.ttl'") {
            if let seconds = DurationText.seconds(text), seconds > 0 { preview.ttlSeconds = seconds } else {
                reader.error(t, "'\(text)' is not a duration", hint: "write e.g. 72h or 30m")
            }
        }
        if let m = f["max"], let n = reader.int(m, what: "'preview.max'") {
            if (1...100).contains(n) { preview.max = n } else { reader.error(m, "'preview.max' must be between 1 and 100") }
        }
        if let n = f["namespace"], let text = reader.nonEmptyString(n, what: "'preview.namespace'") {
            if text.contains("{{number}}") { preview.namespace = text } else {
                reader.error(n, "'preview.namespace' must contain {{number}}: each merge request's preview has a namespace of its own")
            }
        }
        if let u = f["url"], let text = reader.nonEmptyString(u, what: "'preview.url'") { preview.url = text }
        if let q = f["quota"] { preview.quota = decodeQuota(q) }
        if let g = f["egress"] {
            if g.string == "all" { preview.egress = nil } else if let list = reader.stringList(g, what: "'preview.egress'") {
                preview.egress = list.map(\.0)
                for (cidr, item) in list where !Self.isCIDR(cidr) {
                    reader.error(item, "'\(cidr)' in 'preview.egress' is not a CIDR", hint: "e.g. 10.20.0.0/16; or 'egress: all' to leave egress open")
                }
            }
        }
        return preview
    }

    private mutating func decodeQuota(_ node: Node) -> [KeyValue]? {
        if node.string == "none" { return nil }
        guard let pairs = reader.mapping(node, what: "'preview.quota'") else { return PreviewSpec.defaultQuota }
        var hard: [KeyValue] = []
        for (key, _, value) in pairs {
            guard value.isScalar, let text = value.string, !text.isEmpty else {
                reader.error(value, "'preview.quota.\(key)' must be a quantity, e.g. 2 or 4Gi")
                continue
            }
            hard.append(KeyValue(key, text))
        }
        return hard
    }

    static func isCIDR(_ text: String) -> Bool {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let bits = Int(parts[1]) else { return false }
        if parts[0].contains(":") { return (0...128).contains(bits) && parts[0].allSatisfy { $0.isHexDigit || $0 == ":" } }
        let octets = parts[0].split(separator: ".", omittingEmptySubsequences: false)
        return (0...32).contains(bits) && octets.count == 4 && octets.allSatisfy { UInt8($0) != nil }
    }
}
