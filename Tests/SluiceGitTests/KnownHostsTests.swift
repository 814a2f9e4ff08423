import Testing
@testable import SluiceGit

@Suite struct KnownHostsTests {
    let key: [UInt8] = Array("ssh-ed25519-blob".utf8)
    var base64: String { "c3NoLWVkMjU1MTktYmxvYg==" }

    @Test func matchesHostAndPortForms() {
        let hosts = KnownHosts(text: "# comment\ngit.example.com,10.0.0.1 ssh-ed25519 \(base64)\n[127.0.0.1]:2222 ssh-ed25519 \(base64) extra comment\n")
        #expect(hosts.trusts(host: "git.example.com", port: 22, key: key))
        #expect(hosts.trusts(host: "10.0.0.1", port: 22, key: key))
        #expect(hosts.trusts(host: "127.0.0.1", port: 2222, key: key))
        #expect(!hosts.trusts(host: "127.0.0.1", port: 22, key: key))
        #expect(!hosts.trusts(host: "git.example.com", port: 22, key: Array("other".utf8)))
    }

    @Test func hashedAndMalformedLinesAreIgnored() {
        let hosts = KnownHosts(text: "|1|abc=|def= ssh-ed25519 \(base64)\nbroken-line\nhost ssh-ed25519 !!notbase64!!\n")
        #expect(!hosts.trusts(host: "host", port: 22, key: key))
    }

    @Test func portIsReadFromSSHURLs() {
        #expect(CredentialPayload.port(of: "ssh://git@host:2299/x.git") == 2299)
        #expect(CredentialPayload.port(of: "ssh://git@host/x.git") == 22)
        #expect(CredentialPayload.port(of: "git@host:org/x.git") == 22)
    }
}
