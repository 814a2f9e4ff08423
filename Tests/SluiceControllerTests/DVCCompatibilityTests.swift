import Foundation
import Testing
import SluiceCore
import SluiceGit
import SluiceTestSupport
@testable import SluiceController

/// Data versions of DVC-tracked data must be exactly what the real `dvc` recorded, for
/// files, folders (`.dir` hashes) and `dvc.lock` entries, and change when DVC's do.
@Suite struct DVCCompatibilityTests {
    let env = ["DVC_NO_ANALYTICS": "1"]

    func dvc(_ repo: TestRepository, _ args: [String]) throws {
        let r = try ProcessRunner.run("dvc", args, cwd: repo.path, environment: env.merging(["GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@e", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@e"]) { a, _ in a })
        #expect(r.status == 0, "dvc \(args.joined(separator: " ")): \(r.stderr)")
    }

    /// The md5 DVC wrote, read with PyYAML (independently of Sluice's parser).
    func recorded(_ repo: TestRepository, _ file: String, lockPath: String? = nil) throws -> String {
        let script = lockPath == nil
            ? "import yaml,sys; print(yaml.safe_load(open(sys.argv[1]))['outs'][0]['md5'])"
            : "import yaml,sys; d=yaml.safe_load(open(sys.argv[1])); print([o['md5'] for s in d['stages'].values() for o in s.get('outs',[])+s.get('deps',[]) if o['path']==sys.argv[2]][0])"
        let r = try ProcessRunner.run("python3", ["-c", script, file] + (lockPath.map { [$0] } ?? []), cwd: repo.path)
        #expect(r.status == 0, "\(r.stderr)")
        return r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test func versionsEqualWhatRealDVCRecorded() throws {
        guard ProcessRunner.has("dvc") else {
            Issue.record("SKIPPED LOUDLY: dvc is not installed (pip install dvc; .ci/setup does this)")
            return
        }
        let repo = try TestRepository()
        try repo.commit("init", files: ["README.md": "x\n"])
        try dvc(repo, ["init", "-q"])
        repo.write("data/images/a.bin", bytes: (0..<5000).map { UInt8(truncatingIfNeeded: $0 * 13) })
        repo.write("data/images/sub/b.bin", "second image\n")
        repo.write("data/labels.csv", "id,label\n1,cat\n2,dog\n")
        try dvc(repo, ["add", "-q", "data/images", "data/labels.csv"])
        try dvc(repo, ["stage", "add", "-q", "-n", "prepare", "-d", "data/labels.csv", "-o", "prepared.csv", "cp data/labels.csv prepared.csv"])
        try dvc(repo, ["repro", "-q"])
        repo.write("sluice.yaml", """
        version: 1
        datasets:
          images: { dvc: data/images.dvc }
          labels: { dvc: data/labels.csv.dvc }
          prepared: { dvc: dvc.lock, out: prepared.csv }
        stages:
          train: { run: python train.py, when: { datasets: [images, labels, prepared] } }
        """)
        try repo.commit("track data with dvc")

        let commit = try GitRepository(path: repo.path).commit("HEAD")
        let loaded = SpecLoader.load(bytes: commit.contents(at: "sluice.yaml")!, file: "sluice.yaml", paths: CommitPathLookup(commit))
        let spec = try #require(loaded.spec, "\(loaded.diagnostics)")
        let versions = DatasetVersions.read(spec, in: commit)
        #expect(versions.problems.isEmpty, "\(versions.problems)")
        #expect(versions.versions["images"] == (try recorded(repo, "data/images.dvc")))
        #expect(versions.versions["images"]?.hasSuffix(".dir") == true)
        #expect(versions.versions["labels"] == (try recorded(repo, "data/labels.csv.dvc")))
        #expect(versions.versions["prepared"] == (try recorded(repo, "dvc.lock", lockPath: "prepared.csv")))

        // Change the data the DVC way; the plan names the old and new DVC hashes.
        let before = versions.versions["images"]!
        repo.write("data/images/c.bin", "third\n")
        try dvc(repo, ["add", "-q", "data/images"])
        try repo.commit("more images")
        let after = try recorded(repo, "data/images.dvc")
        #expect(after != before)
        let outcome = try CommitPlanner(repository: try GitRepository(path: repo.path)).plan()
        let reasons = outcome.plan?.stages.first { $0.name == "train" }?.reasons ?? []
        #expect(reasons == ["dataset images changed: \(before.prefix(8)).. -> \(after.prefix(8)).."])
    }
}
