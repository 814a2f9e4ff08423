import Foundation
import Testing
import SluiceTestSupport

/// Drives the built `sluice` binary as a user would.
@Suite struct ValidateCommandTests {
    let sluice = RepositoryLayout.sluiceBinary

    @Test func versionPrints() throws {
        let r = try ProcessRunner.run(sluice, ["--version"])
        #expect(r.status == 0)
        #expect(r.stdout.contains("0."))
    }

    @Test func validExampleExitsZero() throws {
        let r = try ProcessRunner.run(sluice, ["validate", RepositoryLayout.root() + "/examples/iris"])
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("valid (5 stages, 1 dataset)"), "\(r.stdout)")
    }

    @Test func errorsUseTheCompilerFormatAndExitOne() throws {
        let dir = TemporaryDirectory()
        dir.write("sluice.yaml", "version: 1\nstages:\n  lint: {run: x}\n  test:\n    run: pytest\n    need: [lint]\n")
        let r = try ProcessRunner.run(sluice, ["validate"], cwd: dir.path)
        #expect(r.status == 1)
        #expect(r.stdout.contains("sluice.yaml:6:5: error: unknown key 'need' in stage 'test'; did you mean 'needs'?"))
        #expect(r.stdout.contains("1 error in sluice.yaml"))
    }

    /// A new user's schema and policy mistakes are found by validate, at their own file's line,
    /// and the summary says which file holds them (it used to say "1 error in sluice.yaml" and
    /// pass the schema, which then failed the run).
    @Test func theSchemasAndPolicySluiceYamlNamesAreCheckedAtTheirOwnLines() throws {
        let dir = TemporaryDirectory()
        dir.write("sluice.yaml", """
            version: 1
            stages:
              validate:
                uses: validate-data
                with: { data: data/d.csv, schema: schemas/d.yaml }
              evaluate: { run: "echo {} > m.json", metrics: m.json }
            gate: { policy: policies/p.yaml }
            """)
        dir.write("data/d.csv", "x\n1\n")
        dir.write("schemas/d.yaml", "columns:\n  x: { type: float, nulable: true }\n")
        dir.write("policies/p.yaml", "rules:\n  - metric: accuracy\n    direction: upward\n")
        let r = try ProcessRunner.run(sluice, ["validate"], cwd: dir.path)
        #expect(r.status == 1, "\(r.stdout)")
        #expect(r.stdout.contains("schemas/d.yaml:2:"), "\(r.stdout)")
        #expect(r.stdout.contains("float"), "\(r.stdout)")
        #expect(r.stdout.contains("nulable"), "\(r.stdout)")
        #expect(r.stdout.contains("policies/p.yaml:3:"), "\(r.stdout)")
        #expect(r.stdout.contains("errors: 1 in policies/p.yaml, 2 in schemas/d.yaml") || r.stdout.contains("errors: 2 in schemas/d.yaml, 1 in policies/p.yaml"),
                "\(r.stdout)")
        #expect(!r.stdout.contains("in sluice.yaml"), "\(r.stdout)")
    }

    /// validate reads the working tree; run reads the commit: a schema never committed, or an
    /// edit not committed, is said (it used to validate, then fail or be ignored by the run).
    @Test func filesTheCommitLacksOrHasOtherwiseAreNoted() throws {
        let repo = try TestRepository()
        let spec = "version: 1\nstages:\n  v:\n    uses: validate-data\n    with: { data: d.csv, schema: schemas/d.yaml }\n"
        try repo.commit("spec", files: ["sluice.yaml": spec, "d.csv": "x\n1\n"])
        try spec.appending("  other: { run: echo }\n").write(toFile: repo.path + "/sluice.yaml", atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(atPath: repo.path + "/schemas", withIntermediateDirectories: true)
        try "columns:\n  x: { type: integer }\n".write(toFile: repo.path + "/schemas/d.yaml", atomically: true, encoding: .utf8)
        let r = try ProcessRunner.run(sluice, ["validate", repo.path])
        #expect(r.status == 0, "\(r.stdout)")
        #expect(r.stdout.contains("note: schemas/d.yaml is not committed: plan and run read commits, so commit it before `sluice run`"), "\(r.stdout)")
        #expect(r.stdout.contains("note: sluice.yaml has changes that are not committed"), "\(r.stdout)")
        try repo.commit("schema")
        let clean = try ProcessRunner.run(sluice, ["validate", repo.path])
        #expect(!clean.stdout.contains("note:"), "\(clean.stdout)")
    }

    @Test func jsonFormatIsMachineReadable() throws {
        let dir = TemporaryDirectory()
        dir.write("sluice.yaml", "version: 1\nstages:\n  a: { run: x, needs: [a] }\n")
        let r = try ProcessRunner.run(sluice, ["validate", "--format", "json", dir.path])
        #expect(r.status == 1)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        #expect(json["valid"] as? Bool == false)
        let diagnostics = try #require(json["diagnostics"] as? [[String: Any]])
        #expect(diagnostics.count == 1)
        let location = try #require(diagnostics[0]["location"] as? [String: Any])
        #expect(location["line"] as? Int == 3)
        #expect(location["column"] as? Int == 24)
    }

    @Test func missingFileExitsTwoWithReasonOnStderr() throws {
        let dir = TemporaryDirectory()
        let r = try ProcessRunner.run(sluice, ["validate", dir.path + "/nope.yaml"])
        #expect(r.status == 2)
        #expect(r.stderr.contains("cannot read"))
        #expect(r.stderr.contains("nope.yaml"))
    }
}
