import Foundation
import Testing
import SluiceTestSupport
@testable import SluiceGit

@Suite struct CheckoutTests {
    @Test func checksOutAnyCommitIntoAFreshFolderWithoutTouchingTheRepository() throws {
        let repo = try TestRepository()
        let first = try repo.commit("one", files: ["a.txt": "one\n", "src/run.sh": "#!/bin/sh\necho hi\n"])
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: repo.path + "/src/run.sh")
        try repo.commit("exec")
        #expect(try repo.git(["ls-tree", "HEAD", "src/run.sh"]).hasPrefix("100755"))
        try repo.commit("two", files: ["a.txt": "two\n", "b/c.txt": "c\n"])
        let git = try GitRepository(path: repo.path)

        let ws1 = TemporaryDirectory(), ws2 = TemporaryDirectory()
        try git.commit(first).checkout(to: ws1.path + "/w")
        try git.commit("HEAD").checkout(to: ws2.path + "/w")
        #expect(try String(contentsOfFile: ws1.path + "/w/a.txt", encoding: .utf8) == "one\n")
        #expect(!FileManager.default.fileExists(atPath: ws1.path + "/w/b/c.txt"))
        #expect(try String(contentsOfFile: ws2.path + "/w/a.txt", encoding: .utf8) == "two\n")
        #expect(try String(contentsOfFile: ws2.path + "/w/b/c.txt", encoding: .utf8) == "c\n")
        #expect(FileManager.default.isExecutableFile(atPath: ws2.path + "/w/src/run.sh"))
        // The user's clone is untouched.
        #expect(try repo.git(["status", "--porcelain"]) == "")
        #expect(try String(contentsOfFile: repo.path + "/a.txt", encoding: .utf8) == "two\n")
    }

    @Test func checksOutFromABareMirror() throws {
        let repo = try TestRepository()
        try repo.commit("one", files: ["x/y.txt": "y\n"])
        let bare = TemporaryDirectory()
        _ = try ProcessRunner.run("git", ["clone", "-q", "--bare", repo.path, bare.path + "/m.git"])
        let git = try GitRepository(path: bare.path + "/m.git")
        let ws = TemporaryDirectory()
        try git.commit("HEAD").checkout(to: ws.path + "/w")
        #expect(try String(contentsOfFile: ws.path + "/w/x/y.txt", encoding: .utf8) == "y\n")
    }
}
