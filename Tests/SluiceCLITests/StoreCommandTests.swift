import Foundation
import Testing
import SluiceTestSupport

/// `sluice store export | sluice store import --from`: a state folder moved to another, with
/// its artifacts checked by digest and its logs.
@Suite struct StoreCommandTests {
    let sluice = RepositoryLayout.sluiceBinary

    @Test func aStateFolderMovesWithItsArtifactsAndLogsAndACorruptBlobIsRefused() throws {
        let repo = try TestRepository()
        try repo.commit("first", files: ["data.csv": "x\n1\n", "sluice.yaml": """
            version: 1
            stages:
              train: { run: "mkdir -p model && echo weights > model/w.bin && echo cfg > model/c.json", outputs: [model], when: { paths: [data.csv] } }
              check: { run: "cat model/w.bin", needs: [train] }
            """])
        let old = TemporaryDirectory(prefix: "sluice-old"), new = TemporaryDirectory(prefix: "sluice-new")
        let first = try ProcessRunner.run(sluice, ["run", "--repo", repo.path, "--state", old.path])
        #expect(first.status == 0, "\(first.stdout)\(first.stderr)")

        let export = try ProcessRunner.run(sluice, ["store", "export", "--state", old.path])
        #expect(export.status == 0, "\(export.stderr)")
        #expect(export.stdout.hasPrefix("{\"format\":\"sluice-store\""))
        let imported = try ProcessRunner.run(sluice, ["store", "import", "--state", new.path, "--from", old.path], input: export.stdout)
        #expect(imported.status == 0, "\(imported.stderr)")
        #expect(imported.stdout.contains("(1 runs); copied 1 outputs and 1 runs' logs"), "\(imported.stdout)")

        // The new folder has the run, its logs, and the outputs a cache hit restores.
        try FileManager.default.removeItem(atPath: old.path)
        let logs = try ProcessRunner.run(sluice, ["logs", "1", "check", "--state", new.path])
        #expect(logs.stdout.contains("weights"), "\(logs.stdout)\(logs.stderr)")
        let again = try ProcessRunner.run(sluice, ["run", "--repo", repo.path, "--state", new.path])
        #expect(again.status == 0, "\(again.stdout)\(again.stderr)")
        #expect(again.stdout.contains("run 2: succeeded"), "\(again.stdout)")
        let train = try ProcessRunner.run(sluice, ["logs", "2", "train", "--state", new.path])
        #expect(train.stdout.contains("outputs of run 1 (the production branch) restored"), "\(train.stdout)")

        // A blob whose bytes changed in the source folder (same size) is not carried over.
        let bad = TemporaryDirectory(prefix: "sluice-bad")
        let blobs = try #require(FileManager.default.enumerator(atPath: new.path + "/cas/sha256")?.compactMap { $0 as? String }.filter { $0.count > 3 })
        for blob in blobs {
            let path = new.path + "/cas/sha256/" + blob
            if (try String(contentsOfFile: path, encoding: .utf8)) == "weights\n" { try "weightz\n".write(toFile: path, atomically: false, encoding: .utf8) }
        }
        let dump = try ProcessRunner.run(sluice, ["store", "export", "--state", new.path]).stdout
        let refused = try ProcessRunner.run(sluice, ["store", "import", "--state", bad.path, "--from", new.path], input: dump)
        #expect(refused.status == 2)
        #expect(refused.stderr.contains("output 'model' of run 1"), "\(refused.stderr)")
        #expect(refused.stderr.contains("holds other bytes"), "\(refused.stderr)")

        // An export of a folder with no store says so; an import into a folder with one refuses.
        let none = try ProcessRunner.run(sluice, ["store", "export", "--state", bad.path + "/nothing"])
        #expect(none.status == 2 && none.stderr.contains("holds no run store"))
        let twice = try ProcessRunner.run(sluice, ["store", "import", "--state", new.path], input: dump)
        #expect(twice.status == 2 && twice.stderr.contains("an import builds a new store"), "\(twice.stderr)")
    }
}
