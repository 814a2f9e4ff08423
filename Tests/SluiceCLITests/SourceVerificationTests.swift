import Foundation
import Testing
import SluiceTestSupport

/// `verify:` with real keys: made with `gpg --batch --quick-gen-key` and `ssh-keygen`, commits
/// signed by git itself. Unsigned commits and commits signed by keys the controller does not
/// trust run nothing (`SourceVerified=False`, with the signer and why); a trusted signature runs.
@Suite struct SourceVerificationTests {
    let sluice = RepositoryLayout.sluiceBinary
    let helper = WatchTests()

    /// A signer: an OpenPGP key in its own GnuPG home and an SSH key, both made here.
    struct Signer {
        let home: TemporaryDirectory
        let email: String
        let fingerprint: String
        let sshKey: String

        init(_ name: String) throws {
            home = TemporaryDirectory(prefix: "sluice-signer")
            email = "\(name)@example.com"
            let gnupg = home.path + "/gnupg"
            try FileManager.default.createDirectory(atPath: gnupg, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            let made = try ProcessRunner.run("gpg", ["--batch", "--homedir", gnupg, "--passphrase", "", "--quick-gen-key", "\(name) <\(email)>", "ed25519", "sign", "never"])
            #expect(made.status == 0, "\(made.stderr)")
            let listed = try ProcessRunner.run("gpg", ["--batch", "--homedir", gnupg, "--with-colons", "--list-keys", email]).stdout
            fingerprint = listed.split(separator: "\n").first { $0.hasPrefix("fpr:") }?.split(separator: ":").last.map(String.init) ?? ""
            home.write("gpg", "#!/bin/sh\nexec gpg --homedir '\(gnupg)' \"$@\"\n")
            chmod(home.path + "/gpg", 0o755)
            sshKey = home.path + "/ssh"
            let key = try ProcessRunner.run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", email, "-f", sshKey])
            #expect(key.status == 0, "\(key.stderr)")
        }

        func armoredPublicKey() throws -> String {
            try ProcessRunner.run("gpg", ["--batch", "--homedir", home.path + "/gnupg", "--armor", "--export", email]).stdout
        }

        func allowedSigner() throws -> String { "\(email) " + (try String(contentsOfFile: sshKey + ".pub", encoding: .utf8)) }

        /// Commits signed with the OpenPGP key (`ssh: false`) or the SSH key.
        func commit(_ repo: TestRepository, _ message: String, ssh: Bool = false, files: [String: String] = [:]) throws -> String {
            for (file, content) in files { repo.write(file, content) }
            try repo.git(["add", "-A"])
            let how = ssh ? ["-c", "gpg.format=ssh", "-c", "user.signingkey=\(sshKey).pub"]
                : ["-c", "gpg.program=\(home.path)/gpg", "-c", "user.signingkey=\(fingerprint)"]
            try repo.git(how + ["commit", "-q", "--allow-empty", "-S", "-m", message])
            return try repo.git(["rev-parse", "HEAD"])
        }
    }

    static let spec = "version: 1\nstages:\n  hello: { run: \"echo hello\" }\n"

    func watch(_ repo: TestRepository, trusted: Signer, mode: String, dir: TemporaryDirectory) throws -> (BackgroundProcess, String) {
        dir.write("keys/trusted.asc", try trusted.armoredPublicKey())
        dir.write("allowed_signers", try trusted.allowedSigner())
        let config = dir.write("controller.yaml", """
            listen: 127.0.0.1:0
            interval: 1s
            repositories:
              - name: signed
                url: \(repo.path)
                verify: { mode: \(mode), gpg-keys: \(dir.path)/keys, ssh-allowed-signers: \(dir.path)/allowed_signers }
            """)
        let process = try BackgroundProcess(sluice, ["watch", "--config", config, "--state", dir.path + "/state"], readyPrefix: "sluice: listening on 127.0.0.1:")
        return (process, "http://127.0.0.1:\(process.readyLine.split(separator: ",")[0])")
    }

    func metrics(_ base: String) throws -> String { try helper.curl([base + "/metrics"]).stdout }

    func status(_ base: String) throws -> String { try helper.curl([base + "/repositories/signed"]).stdout }

    @Test(.enabled(if: RequiredTools.run(whenPresent: ProcessRunner.has("gpg") && ProcessRunner.has("gpgv")), "gpg is not installed: SKIPPED"))
    func onlyCommitsSignedByTrustedKeysRun() throws {
        let ana = try Signer("ana"), mallory = try Signer("mallory")
        let repo = try TestRepository()
        let first = try ana.commit(repo, "pipeline", files: ["sluice.yaml": Self.spec])
        let dir = TemporaryDirectory()
        let (process, base) = try watch(repo, trusted: ana, mode: "head", dir: dir)
        func runs() throws -> Int {
            try metrics(base).split(separator: "\n").filter { $0.hasPrefix("sluice_pipeline_runs_total{") }
                .compactMap { Int($0.split(separator: " ").last ?? "") }.reduce(0, +)
        }
        try waitUntil("the signed commit ran") { try runs() == 1 }
        #expect(try status(base).contains("\(first.prefix(12)) is signed by ana &lt;ana@example.com&gt;, OpenPGP key \(ana.fingerprint)"))

        func refused(_ commit: String, because why: String) throws {
            try waitUntil("\(commit.prefix(12)) refused") { try status(base).contains("commit \(commit.prefix(12)) \(why)") }
            try waitForPolls(base, count: 2)
            #expect(try runs() == 1, "\(commit.prefix(12)) must not run")
            #expect(try metrics(base).contains("type=\"SourceVerified\",status=\"False\",reason=\"Unverified\"} 1"))
        }
        try refused(try repo.commit("unsigned"), because: "is not signed")
        try refused(try mallory.commit(repo, "by mallory, OpenPGP"),
                    because: "is signed by OpenPGP key \(mallory.fingerprint.suffix(16)), which is not among the trusted keys")
        try refused(try mallory.commit(repo, "by mallory, SSH", ssh: true), because: "is signed by an SSH key that no entry of \(dir.path)/allowed_signers allows")

        let fixed = try ana.commit(repo, "by ana, SSH", ssh: true)
        try waitUntil("the next trusted commit ran") { try runs() == 2 }
        #expect(try status(base).contains("\(fixed.prefix(12)) is signed by ana@example.com, SSH key SHA256:"))
        withExtendedLifetime(process) {}
    }

    @Test(.enabled(if: RequiredTools.run(whenPresent: ProcessRunner.has("gpg") && ProcessRunner.has("gpgv")), "gpg is not installed: SKIPPED"))
    func modeAllRefusesASignedMergeOverAnUnsignedCommit() throws {
        let ana = try Signer("ana")
        let repo = try TestRepository()
        try ana.commit(repo, "pipeline", files: ["sluice.yaml": Self.spec])
        let dir = TemporaryDirectory()
        let (process, base) = try watch(repo, trusted: ana, mode: "all", dir: dir)
        try waitUntil("the signed commit ran") { try metrics(base).contains("result=\"succeeded\"} 1") }
        try repo.git(["checkout", "-q", "-b", "side"])
        let unsigned = try repo.commit("unsigned work", files: ["side.txt": "x\n"])
        try repo.git(["checkout", "-q", "main"])
        try repo.git(["-c", "gpg.program=\(ana.home.path)/gpg", "-c", "user.signingkey=\(ana.fingerprint)", "merge", "-q", "--no-ff", "-S", "-m", "signed merge", "side"])
        try waitUntil("the merge refused") { try status(base).contains("commit \(unsigned.prefix(12)) is not signed") }
        try waitForPolls(base, count: 2)
        #expect(try metrics(base).contains("result=\"succeeded\"} 1"), "the merge did not run")
        withExtendedLifetime(process) {}
    }

    @Test func verifySettingsWithErrorsAreRefusedWithTheirPlace() throws {
        let dir = TemporaryDirectory()
        let config = dir.write("c.yaml", """
            repositories:
              - { name: a, url: /tmp/a, verify: { mode: every } }
            """)
        let r = try ProcessRunner.run(sluice, ["watch", "--config", config, "--check"])
        #expect(r.status == 2)
        #expect(r.stderr.contains("c.yaml:2:45: error: 'verify.mode' of 'a' must be head or all, found 'every'"), "\(r.stderr)")
        #expect(r.stderr.contains("'verify' of 'a' needs 'gpg-keys' (public keys: a file or a folder) or 'ssh-allowed-signers' (a file)"), "\(r.stderr)")
    }

    /// `sluice run` and `sluice plan` with `--verify-*`: the plan says whether the commit would run.
    @Test func sluiceRunAndPlanVerifyWhenAskedTo() throws {
        let ana = try Signer("ana")
        let repo = try TestRepository()
        try ana.commit(repo, "pipeline", ssh: true, files: ["sluice.yaml": Self.spec])
        let dir = TemporaryDirectory()
        dir.write("allowed_signers", try ana.allowedSigner())
        let verify = ["--verify-ssh-allowed-signers", dir.path + "/allowed_signers"]
        let planned = try ProcessRunner.run(sluice, ["plan", "--repo", repo.path] + verify)
        #expect(planned.status == 0 && planned.stdout.contains("source: verified, signed by ana@example.com"), "\(planned.stdout)\(planned.stderr)")
        let signed = try ProcessRunner.run(sluice, ["run", "--repo", repo.path, "--state", dir.path + "/state"] + verify)
        #expect(signed.status == 0, "\(signed.stdout)\(signed.stderr)")
        let unsigned = try repo.commit("unsigned")
        let refused = try ProcessRunner.run(sluice, ["run", "--repo", repo.path, "--state", dir.path + "/state"] + verify)
        #expect(refused.status == 2 && refused.stderr.contains("not run: commit \(unsigned.prefix(12)) is not signed"), "\(refused.stderr)")
        let refusedPlan = try ProcessRunner.run(sluice, ["plan", "--repo", repo.path, "--format", "json"] + verify)
        let source = (try JSONSerialization.jsonObject(with: Data(refusedPlan.stdout.utf8)) as? [String: Any])?["source"] as? [String: Any]
        #expect(refusedPlan.status == 1 && source?["verified"] as? Bool == false
                && source?["detail"] as? String == "commit \(unsigned.prefix(12)) is not signed", "\(refusedPlan.stdout)\(refusedPlan.stderr)")
    }

    @Test func anUnverifiedMergeRequestHeadGetsAFailingStatusAndDoesNotRun() throws {
        let ana = try Signer("ana")
        let fake = try ForgeFake()
        let repo = try TestRepository()
        try ana.commit(repo, "pipeline", ssh: true, files: ["sluice.yaml": Self.spec])
        try repo.git(["checkout", "-q", "-b", "feature"])
        let unsigned = try repo.commit("unsigned feature", files: ["f.txt": "x\n"])
        try repo.git(["update-ref", "refs/pull/7/head", unsigned])
        try repo.git(["checkout", "-q", "main"])
        let dir = TemporaryDirectory()
        dir.write("allowed_signers", try ana.allowedSigner())
        let config = dir.write("controller.yaml", """
            listen: 127.0.0.1:0
            interval: 1s
            repositories:
              - name: signed
                url: \(repo.path)
                verify: { ssh-allowed-signers: \(dir.path)/allowed_signers }
                forge: { kind: github, project: acme/iris, api: \(fake.api("github")), token-env: FORGE_TOKEN }
            """)
        let process = try BackgroundProcess(sluice, ["watch", "--config", config, "--state", dir.path + "/state"], readyPrefix: "sluice: listening on 127.0.0.1:",
                                            environment: ["FORGE_TOKEN": "t0ken"])
        let base = "http://127.0.0.1:\(process.readyLine.split(separator: ",")[0])"
        try waitUntil("a failing status on the unsigned head") { try fake.statuses("github", commit: unsigned).contains { $0["state"] as? String == "failure" } }
        let status = try fake.statuses("github", commit: unsigned).last { $0["state"] as? String == "failure" }
        #expect((status?["description"] as? String)?.contains("is not signed") == true, "\(status ?? [:])")
        try waitForPolls(base, count: 2)
        #expect(try metrics(base).contains("result=\"succeeded\"} 1"), "only the signed production commit ran")
        #expect(try fake.violations().isEmpty)
    }
}
