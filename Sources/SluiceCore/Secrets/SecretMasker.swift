/// Replaces secrets in text before it is stored or shown: the configured secret
/// values themselves, and text shaped like common credentials (forge and cloud
/// tokens, bearer tokens, passwords in URLs, private key blocks) even when nobody
/// declared them.
public struct SecretMasker: Sendable {
    public static let replacement = "***"

    /// A credential recognised by its prefix followed by token characters.
    struct TokenShape: Sendable {
        var prefix: String
        var minimumBodyLength: Int
    }

    static let tokenShapes: [TokenShape] = [
        .init(prefix: "ghp_", minimumBodyLength: 20), .init(prefix: "gho_", minimumBodyLength: 20),
        .init(prefix: "ghu_", minimumBodyLength: 20), .init(prefix: "ghs_", minimumBodyLength: 20),
        .init(prefix: "ghr_", minimumBodyLength: 20), .init(prefix: "github_pat_", minimumBodyLength: 20),
        .init(prefix: "glpat-", minimumBodyLength: 16), .init(prefix: "xoxb-", minimumBodyLength: 10),
        .init(prefix: "xoxp-", minimumBodyLength: 10), .init(prefix: "xoxa-", minimumBodyLength: 10),
        .init(prefix: "AKIA", minimumBodyLength: 16), .init(prefix: "ASIA", minimumBodyLength: 16),
        .init(prefix: "sk-", minimumBodyLength: 20), .init(prefix: "hf_", minimumBodyLength: 20),
        .init(prefix: "Bearer ", minimumBodyLength: 8), .init(prefix: "Basic ", minimumBodyLength: 8),
    ]

    /// Configured values, longest first so a secret containing another is masked whole.
    private let values: [String]

    /// - Parameter secrets: values to mask wherever they appear. Values shorter than
    ///   4 characters are ignored: masking "1" would destroy every log line.
    public init(secrets: [String] = []) {
        values = Set(secrets.filter { $0.count >= 4 }).sorted { $0.count > $1.count }
    }

    public func mask(_ text: String) -> String {
        var result = text
        for value in values where result.contains(value) {
            result = result.replacing(value, with: Self.replacement)
        }
        return Self.maskShapes(result)
    }

    private static func isTokenByte(_ b: UInt8) -> Bool {
        (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
            || b == UInt8(ascii: "_") || b == UInt8(ascii: "-") || b == UInt8(ascii: ".")
            || b == UInt8(ascii: "/") || b == UInt8(ascii: "+") || b == UInt8(ascii: "=")
    }

    static func maskShapes(_ text: String) -> String {
        if text.contains("PRIVATE KEY-----") { return "-----BEGIN PRIVATE KEY----- " + replacement }
        let bytes = Array(text.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = 0
        var changed = false
        scan: while i < bytes.count {
            // A token must start at a word boundary.
            if i == 0 || !isTokenByte(bytes[i - 1]) || bytes[i - 1] == UInt8(ascii: "=") {
                for shape in tokenShapes {
                    let prefix = Array(shape.prefix.utf8)
                    guard bytes.count - i >= prefix.count, bytes[i..<(i + prefix.count)].elementsEqual(prefix) else { continue }
                    var end = i + prefix.count
                    while end < bytes.count, isTokenByte(bytes[end]) { end += 1 }
                    if end - i - prefix.count >= shape.minimumBodyLength {
                        out += prefix.last == UInt8(ascii: " ") ? prefix : []
                        out += Array(replacement.utf8)
                        i = end
                        changed = true
                        continue scan
                    }
                }
            }
            // user:password@ in URLs.
            if bytes[i] == UInt8(ascii: ":"), i + 2 < bytes.count, bytes[i + 1] == UInt8(ascii: "/"), bytes[i + 2] == UInt8(ascii: "/") {
                var j = i + 3
                var colon: Int?
                while j < bytes.count, bytes[j] != UInt8(ascii: "@"), bytes[j] != UInt8(ascii: "/"), bytes[j] != UInt8(ascii: " ") {
                    if bytes[j] == UInt8(ascii: ":"), colon == nil { colon = j }
                    j += 1
                }
                if let colon, j < bytes.count, bytes[j] == UInt8(ascii: "@"), j > colon + 1 {
                    out += bytes[i...colon]
                    out += Array(replacement.utf8)
                    i = j
                    changed = true
                    continue
                }
            }
            out.append(bytes[i])
            i += 1
        }
        return changed ? String(decoding: out, as: UTF8.self) : text
    }
}
