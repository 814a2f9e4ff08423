import Foundation
import Testing
import SluiceTestSupport
@testable import SluiceStore

@Suite struct ArtifactStoreTests {
    @Test func filesAndFoldersRoundTripByContent() throws {
        let state = TemporaryDirectory(), ws = TemporaryDirectory(), other = TemporaryDirectory()
        let store = ArtifactStore(stateDirectory: state.path)
        ws.write("model/weights.bin", "0123456789")
        ws.write("model/sub/config.json", "{}")
        ws.write("metrics.json", "{\"accuracy\": 0.9}")
        let folder = try store.store(output: "model/", workspace: ws.path)
        let file = try store.store(output: "metrics.json", workspace: ws.path)
        #expect(folder.kind == .directory)
        #expect(folder.size == 12)
        #expect(file.digest == "sha256:" + sha256Hex("{\"accuracy\": 0.9}"))
        // The same content stored again is the same blob.
        #expect(try store.store(output: "model", workspace: ws.path).digest == folder.digest)

        try store.restore(folder.digest, kind: .directory, to: "model", workspace: other.path)
        try store.restore(file.digest, kind: .file, to: "metrics.json", workspace: other.path)
        #expect(try String(contentsOfFile: other.path + "/model/weights.bin", encoding: .utf8) == "0123456789")
        #expect(try String(contentsOfFile: other.path + "/model/sub/config.json", encoding: .utf8) == "{}")
        #expect(try String(contentsOfFile: other.path + "/metrics.json", encoding: .utf8) == "{\"accuracy\": 0.9}")
    }

    func sha256Hex(_ s: String) -> String {
        let r = try! ProcessRunner.run("sha256sum", [], input: s)
        return String(r.stdout.prefix(64))
    }

    @Test func outputsLeavingTheWorkspaceAreRefused() throws {
        let state = TemporaryDirectory(), ws = TemporaryDirectory(), outside = TemporaryDirectory()
        let store = ArtifactStore(stateDirectory: state.path)
        outside.write("secret.txt", "do not copy")
        try FileManager.default.createSymbolicLink(atPath: ws.path + "/link", withDestinationPath: outside.path)
        try FileManager.default.createSymbolicLink(atPath: ws.path + "/key", withDestinationPath: outside.path + "/secret.txt")
        ws.mkdir("out")
        try FileManager.default.createSymbolicLink(atPath: ws.path + "/out/escape", withDestinationPath: outside.path + "/secret.txt")
        for (output, message) in [("../x", "points outside the workspace"), ("link/secret.txt", "through a symbolic link"),
                                  ("key", "through a symbolic link"), ("out", "symbolic link leading outside"),
                                  ("missing", "was not produced")] {
            #expect { _ = try store.store(output: output, workspace: ws.path) } throws: { "\($0)".contains(message) }
        }
    }

    @Test func aFullDiskFailsCleanlyAndLeavesNoPartialBlob() throws {
        let state = TemporaryDirectory(), ws = TemporaryDirectory()
        let mountPoint = state.path + "/cas"
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
        let mounted = try ProcessRunner.run("mount", ["-t", "tmpfs", "-o", "size=256k", "tmpfs", mountPoint])
        guard mounted.status == 0 else {
            print("SKIPPED: full-disk test needs to mount a small tmpfs (root): \(mounted.stderr)")
            return
        }
        defer { _ = try? ProcessRunner.run("umount", [mountPoint]) }
        let store = ArtifactStore(stateDirectory: state.path)
        ws.write("big.bin", String(repeating: "x", count: 1 << 20))
        #expect { _ = try store.store(output: "big.bin", workspace: ws.path) } throws: {
            "\($0)".contains("storing output 'big.bin' failed: No space left on device")
        }
        let leftovers = (try? FileManager.default.subpathsOfDirectory(atPath: mountPoint)) ?? []
        #expect(leftovers.allSatisfy { !$0.contains("blob-") && !$0.hasPrefix("sha256/") || $0 == "sha256" }, "\(leftovers)")
        // Small outputs still fit afterwards.
        ws.write("small.txt", "ok")
        #expect(try store.store(output: "small.txt", workspace: ws.path).size == 2)
    }
}
