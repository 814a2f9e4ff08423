import Crypto
import FoundationEssentials

/// Checks that a webhook delivery comes from the forge: GitHub's `X-Hub-Signature-256`
/// (`sha256=` + hex HMAC-SHA256 of the body), Gitea's `X-Gitea-Signature` (hex HMAC-SHA256),
/// GitLab's `X-Gitlab-Token` (the shared secret itself). Comparisons are constant-time. Pure:
/// the server hands it the body and headers.
public enum WebhookVerifier {
    public static func forge(headers: (String) -> String?) -> ForgeKind? {
        if headers("X-Gitea-Event") != nil { return .gitea }  // Gitea also sends X-GitHub-Event: test it first
        if headers("X-GitHub-Event") != nil { return .github }
        if headers("X-Gitlab-Event") != nil { return .gitlab }
        return nil
    }

    public static func verify(_ forge: ForgeKind, body: [UInt8], secret: String, headers: (String) -> String?) -> Bool {
        switch forge {
        case .github:
            guard let signature = headers("X-Hub-Signature-256"), signature.hasPrefix("sha256=") else { return false }
            return equal(Array(signature.dropFirst(7).utf8), Array(hmac(body, secret).utf8))
        case .gitea:
            guard let signature = headers("X-Gitea-Signature") else { return false }
            return equal(Array(signature.utf8), Array(hmac(body, secret).utf8))
        case .gitlab:
            guard let token = headers("X-Gitlab-Token") else { return false }
            return equal(Array(token.utf8), Array(secret.utf8))
        }
    }

    public static func hmac(_ body: [UInt8], _ secret: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Data(secret.utf8)))
        let digits = Array("0123456789abcdef".utf8)
        return String(decoding: mac.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 15)]] }, as: UTF8.self)
    }

    static func equal(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for i in 0..<a.count { difference |= a[i] ^ b[i] }
        return difference == 0
    }
}
