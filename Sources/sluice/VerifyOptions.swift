import ArgumentParser
import SluiceCore

/// `--verify-*` of `sluice run` and `sluice plan`: which signatures a commit must carry to run.
struct VerifyOptions: ParsableArguments {
    @Option(help: "Run only commits signed by one of these OpenPGP public keys (a file, or a folder of them), checked with gpgv.")
    var verifyGpgKeys: String?

    @Option(help: "Run only commits signed by an SSH key this allowed-signers file allows, checked with ssh-keygen -Y verify.")
    var verifySshAllowedSigners: String?

    @Option(help: "With --verify-*: check the commit (head) or every commit since --since or the ref's last run (all).")
    var verifyMode: String = "head"

    func validate() throws {
        if SourceVerification.Mode(rawValue: verifyMode) == nil { throw ValidationError("--verify-mode must be head or all, got '\(verifyMode)'") }
    }

    /// nil when no key was given: nothing is verified.
    var settings: SourceVerification? {
        guard verifyGpgKeys != nil || verifySshAllowedSigners != nil else { return nil }
        return SourceVerification(mode: SourceVerification.Mode(rawValue: verifyMode) ?? .head, gpgKeys: verifyGpgKeys, sshAllowedSigners: verifySshAllowedSigners)
    }
}
