import Foundation
import Testing
import SluiceCore
import SluiceTestSupport
@testable import SluiceGit

@Suite struct GitRepositoryTests {
    @Test func resolvesCommitsTreesAndObjectIDsLikeGit() throws {
        let repo = try TestRepository()
        let first = try repo.commit("one", files: ["data/iris.csv": "a,b\n1,2\n", "src/train.py": "print(1)\n"])
        let git = try GitRepository(path: repo.path)
        let commit = try git.commit("HEAD")
        #expect(commit.id == first)
        #expect(commit.treeID == (try repo.git(["rev-parse", "HEAD^{tree}"])))
        #expect(commit.objectID(at: "data") == (try repo.git(["rev-parse", "HEAD:data"])))
        #expect(commit.objectID(at: "data/iris.csv") == (try repo.git(["rev-parse", "HEAD:data/iris.csv"])))
        #expect(commit.objectID(at: "missing") == nil)
        #expect(commit.kind(at: "data") == .directory)
        #expect(commit.kind(at: "src/train.py") == .file)
        #expect(commit.contents(at: "src/train.py") == Array("print(1)\n".utf8))
        #expect(commit.files(under: "").map(\.path) == ["data/iris.csv", "src/train.py"])
        #expect(commit.summary == "one")
        #expect(git.headBranch == "main")
    }

    @Test func diffDetectsRenamesIncludingMassRenames() throws {
        let repo = try TestRepository()
        var files: [String: String] = [:]
        for i in 0..<10_000 { files["old/file\(i).txt"] = "content number \(i) with enough text to be similar\n" }
        try repo.commit("many", files: files)
        try repo.git(["mv", "old", "new"])
        try repo.commit("rename all")
        let git = try GitRepository(path: repo.path)
        let changes = try git.commit("HEAD").changedPaths(since: try git.commit("HEAD~1"))
        #expect(changes.count == 10_000)
        #expect(changes.allSatisfy { if case .renamed = $0.kind { return true } else { return false } })
        #expect(changes.contains(FileChange(path: "new/file7.txt", kind: .renamed(from: "old/file7.txt"))))
        #expect(FileChange(path: "b", kind: .renamed(from: "a")).touchedPaths == ["a", "b"])
    }

    @Test func changedPathsAgreeWithGitDiff() throws {
        let repo = try TestRepository()
        try repo.commit("base", files: ["a/keep.txt": "k\n", "a/edit.txt": "1\n", "a/gone.txt": "g\n",
                                        "b/move.txt": "moving content\n", "c": "file becomes folder\n"])
        try repo.remove("a/gone.txt")
        try repo.remove("c")
        repo.directory.mkdir("d")
        try repo.git(["mv", "b/move.txt", "d/moved.txt"])
        try repo.commit("mixed", files: ["a/edit.txt": "2\n", "a/new/deep.txt": "n\n", "c/inside.txt": "x\n"])
        let git = try GitRepository(path: repo.path)
        let changes = try git.commit("HEAD").changedPaths(since: try git.commit("HEAD~1"))
        let touched = Set(changes.flatMap(\.touchedPaths))
        let expected = Set(try repo.git(["diff", "--name-only", "--no-renames", "HEAD~1", "HEAD"]).split(separator: "\n").map(String.init))
        #expect(touched == expected)
        #expect(changes.contains(FileChange(path: "d/moved.txt", kind: .renamed(from: "b/move.txt"))))
        #expect(changes.contains(FileChange(path: "a/gone.txt", kind: .deleted)))
        #expect(changes.contains(FileChange(path: "a/edit.txt", kind: .modified)))
        #expect(changes.contains(FileChange(path: "c/inside.txt", kind: .added)))
        #expect(changes.contains(FileChange(path: "c", kind: .deleted)))
        #expect(try git.commit("HEAD").changedPaths(since: try git.commit("HEAD")).isEmpty)
        #expect(try git.commit("HEAD").changedPaths(since: nil).count == 5)
    }

    @Test func awkwardFileNamesAndBinaryFiles() throws {
        let repo = try TestRepository()
        try repo.commit("base", files: ["README": "x\n"])
        let names = ["data/my file.csv", "data/quote\"s'.csv", "data/$(touch pwned).csv", "data/ünïcödé.csv", "data/new\nline.csv"]
        for name in names { repo.write(name, "v\n") }
        repo.write("data/blob.bin", bytes: (0..<4096).map { UInt8(truncatingIfNeeded: $0 * 7) })
        try repo.commit("awkward")
        let git = try GitRepository(path: repo.path)
        let changed = Set(try git.commit("HEAD").changedPaths(since: try git.commit("HEAD~1")).map(\.path))
        #expect(changed == Set(names + ["data/blob.bin"]))
        #expect(!FileManager.default.fileExists(atPath: repo.path + "/pwned"))
        #expect(try git.commit("HEAD").contents(at: "data/blob.bin")?.count == 4096)
    }

    @Test func ancestryAndMergeBaseAfterAForcePush() throws {
        let repo = try TestRepository()
        let a = try repo.commit("a", files: ["f": "1"])
        let b = try repo.commit("b", files: ["f": "2"])
        try repo.git(["reset", "-q", "--hard", a])
        let c = try repo.commit("c", files: ["f": "3"])
        let git = try GitRepository(path: repo.path)
        #expect(try git.isAncestor(a, of: c))
        #expect(try !git.isAncestor(b, of: c))
        #expect(try git.mergeBase(b, c) == a)
    }

    @Test func badRevisionAndEmptyRepositoryAreClearErrors() throws {
        let repo = try TestRepository()
        let git = try GitRepository(path: repo.path)
        #expect(git.isEmpty)
        do {
            _ = try git.commit("HEAD")
            Issue.record("expected an error")
        } catch {
            #expect(error.description.contains("no commits yet"))
        }
        try repo.commit("one", files: ["f": "1"])
        let reopened = try GitRepository(path: repo.path)
        do {
            _ = try reopened.commit("no-such-branch")
            Issue.record("expected an error")
        } catch {
            #expect(error.description.contains("no-such-branch"))
        }
    }

    @Test func openingANonRepositoryNamesThePath() throws {
        let dir = TemporaryDirectory()
        do {
            _ = try GitRepository(path: dir.path)
            Issue.record("expected an error")
        } catch {
            #expect(error.description.contains(dir.path))
        }
    }

    @Test func listsMergeRequestRefs() throws {
        let repo = try TestRepository()
        let id = try repo.commit("one", files: ["f": "1"])
        try repo.git(["update-ref", "refs/pull/7/head", id])
        try repo.git(["update-ref", "refs/merge-requests/3/head", id])
        let git = try GitRepository(path: repo.path)
        #expect(try git.references(matching: "refs/pull/*/head") == ["refs/pull/7/head"])
        #expect(try git.references(matching: "refs/merge-requests/*/head") == ["refs/merge-requests/3/head"])
        #expect(git.resolveReference("refs/pull/7/head") == id)
    }
}

@Suite struct GitMirrorTests {
    @Test func mirrorsOverGitDaemonAndFetchesIncrementally() throws {
        let served = TemporaryDirectory(prefix: "sluice-served")
        let work = try TestRepository()
        let first = try work.commit("one", files: ["f": "1"])
        try ProcessRunner.run("git", ["clone", "-q", "--bare", work.path, served.path + "/project.git"])
        let daemon = try GitDaemon(basePath: served.path)
        let state = TemporaryDirectory(prefix: "sluice-state")

        let mirror = try GitMirror.sync(url: daemon.url("project.git"), into: state.path + "/m.git")
        #expect(try mirror.commit("main").id == first)
        #expect(mirror.isBare)

        try work.git(["push", "-q", served.path + "/project.git", "main"])
        let second = try work.commit("two", files: ["f": "2"])
        try work.git(["push", "-q", served.path + "/project.git", "main"])
        let again = try GitMirror.sync(url: daemon.url("project.git"), into: state.path + "/m.git")
        #expect(try again.commit("main").id == second)
        #expect(try again.commit("main~1").id == first)
    }

    @Test func mirrorsFileURLsWithMergeRequestHeads() throws {
        let work = try TestRepository()
        let id = try work.commit("one", files: ["f": "1"])
        try work.git(["update-ref", "refs/pull/12/head", id])
        let state = TemporaryDirectory(prefix: "sluice-state")
        let mirror = try GitMirror.sync(url: "file://" + work.path, into: state.path + "/m.git", mergeRequests: true)
        #expect(mirror.resolveReference("refs/pull/12/head") == id)
    }

    @Test func mirrorsOverSmartHTTP() throws {
        let served = TemporaryDirectory(prefix: "sluice-served")
        let work = try TestRepository()
        let id = try work.commit("one", files: ["f": "1"])
        try ProcessRunner.run("git", ["clone", "-q", "--bare", work.path, served.path + "/project.git"])
        let server = try GitHTTPServer(projectRoot: served.path)
        let state = TemporaryDirectory(prefix: "sluice-state")
        let mirror = try GitMirror.sync(url: server.url("project.git"), into: state.path + "/m.git")
        #expect(try mirror.commit("main").id == id)
    }

    @Test func httpTokenAuthenticationSucceedsAndFailsWithoutLeakingTheToken() throws {
        let served = TemporaryDirectory(prefix: "sluice-served")
        let work = try TestRepository()
        let id = try work.commit("one", files: ["f": "1"])
        try ProcessRunner.run("git", ["clone", "-q", "--bare", work.path, served.path + "/private.git"])
        let server = try GitHTTPServer(projectRoot: served.path, token: "right-token-123")
        let state = TemporaryDirectory(prefix: "sluice-state")

        let good = GitCredentials(token: "right-token-123", tokenSource: "SLUICE_GIT_TOKEN")
        let mirror = try GitMirror.sync(url: server.url("private.git"), into: state.path + "/ok.git", credentials: good)
        #expect(try mirror.commit("main").id == id)

        let bad = GitCredentials(token: "wrong-token-456", tokenSource: "SLUICE_GIT_TOKEN")
        do {
            _ = try GitMirror.sync(url: server.url("private.git"), into: state.path + "/bad.git", credentials: bad)
            Issue.record("expected an authentication error")
        } catch {
            #expect(error.description.contains("SLUICE_GIT_TOKEN"))
            #expect(error.description.contains(server.url("private.git")))
            #expect(!error.description.contains("wrong-token-456"))
        }
    }

    @Test func mirrorsOverSSHCheckingTheHostKey() throws {
        guard SSHServer.isAvailable else {
            Issue.record("SKIPPED LOUDLY: sshd, ssh-keygen or root missing (.ci/setup installs openssh-server)")
            return
        }
        let sshd = try SSHServer()
        let work = try TestRepository()
        let id = try work.commit("one", files: ["f": "1"])
        let served = TemporaryDirectory(prefix: "sluice-served")
        try ProcessRunner.run("git", ["clone", "-q", "--bare", work.path, served.path + "/p.git"])
        let state = TemporaryDirectory(prefix: "sluice-state")
        let url = sshd.url(served.path + "/p.git")

        let trusted = GitCredentials(sshPrivateKeyPath: sshd.userKey, knownHostsPath: sshd.knownHosts)
        let mirror = try GitMirror.sync(url: url, into: state.path + "/ok.git", credentials: trusted)
        #expect(try mirror.commit("main").id == id)

        // No known host key: refused, with what to do.
        let unknownHost = GitCredentials(sshPrivateKeyPath: sshd.userKey, knownHostsPath: state.path + "/empty")
        do {
            _ = try GitMirror.sync(url: url, into: state.path + "/host.git", credentials: unknownHost)
            Issue.record("expected the host key to be refused")
        } catch {
            #expect(error.isAuthentication)
            #expect(error.description.contains("unknown SSH host key for 127.0.0.1:\(sshd.port)"))
            #expect(error.description.contains("ssh-keyscan"))
        }

        // A key the server does not accept: names the key file tried.
        let otherKey = state.path + "/otherkey"
        try ProcessRunner.run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", otherKey])
        do {
            _ = try GitMirror.sync(url: url, into: state.path + "/key.git",
                                   credentials: GitCredentials(sshPrivateKeyPath: otherKey, knownHostsPath: sshd.knownHosts))
            Issue.record("expected the key to be refused")
        } catch {
            #expect(error.isAuthentication)
            #expect(error.description.contains(otherKey))
        }
    }

    @Test func unreachableRemoteNamesTheURL() throws {
        let port = try FreePort.next()
        let url = "git://127.0.0.1:\(port)/nothing.git"
        let state = TemporaryDirectory(prefix: "sluice-state")
        do {
            _ = try GitMirror.sync(url: url, into: state.path + "/m.git")
            Issue.record("expected an error")
        } catch {
            #expect(error.description.contains(url))
        }
    }
}
