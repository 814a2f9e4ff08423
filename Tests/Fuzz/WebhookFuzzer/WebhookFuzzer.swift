import FuzzSupport
import SluiceCore

/// libFuzzer target: the first byte picks the forge, the bytes up to the first NUL are the
/// signature header, the rest the body; verified against a fixed secret. Nothing may trap,
/// and nothing but the right HMAC may pass.
@_cdecl("LLVMFuzzerTestOneInput")
public func webhook(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let first = bytes.first else { return 0 }
    let rest = Array(bytes.dropFirst())
    let split = rest.firstIndex(of: 0) ?? rest.count
    let header = String(decoding: rest[..<split], as: UTF8.self)
    let body = split < rest.count ? Array(rest[(split + 1)...]) : []
    let forge = ForgeKind.allCases[Int(first) % ForgeKind.allCases.count]
    let names = ["X-Hub-Signature-256", "X-Gitea-Signature", "X-Gitlab-Token", "X-GitHub-Event", "X-Gitea-Event", "X-Gitlab-Event"]
    let headers: (String) -> String? = { names.contains($0) ? header : nil }
    _ = WebhookVerifier.forge(headers: headers)
    if WebhookVerifier.verify(forge, body: body, secret: "fuzzing-secret", headers: headers) {
        // Only the real signature (or GitLab's token) may pass.
        let expected = forge == .gitlab ? "fuzzing-secret" : (forge == .github ? "sha256=" : "") + WebhookVerifier.hmac(body, "fuzzing-secret")
        if header != expected { fatalError("a forged webhook passed verification") }
    }
    return 0
}

@_cdecl("WebhookFuzzer_main")
func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    driveFuzzer(argc, argv) { input, length in input.map { webhook($0, length) } ?? 0 }
}
