import Foundation
import Testing
import SluiceCore
import SluiceTestSupport
@testable import SluiceGit

/// A ref lock file left by a killed Sluice writer goes at once (held-out reliability probe: a
/// `kill -9` in the 30 ms after the last stage left one that the recovering run kept, because it
/// was younger than a minute); one made while a Sluice writer is at work stays.
@Suite struct GitLocksTests {
    @Test func aYoungLockGoesWhenNoSluiceWriterIsAtWorkAndStaysWhileOneIs() throws {
        let repo = try TestRepository()
        try repo.commit("first", files: ["a.txt": "a\n"])
        let git = try GitRepository(path: repo.path)
        let ref = "refs/heads/sluice/env/production"
        let lock = repo.path + "/.git/" + ref + ".lock"
        try FileManager.default.createDirectory(atPath: repo.path + "/.git/refs/heads/sluice/env", withIntermediateDirectories: true)

        // Another process writing for Sluice holds the writer lock: a fresh ref lock may be its.
        // `-o`: only flock itself holds the lock (not the command it starts), so reaping it frees the lock.
        let writer = try BackgroundProcess("flock", ["-o", repo.path + "/.git/sluice-writer.flock", "sh", "-c", "echo held; exec sleep 600"],
                                           readyPrefix: "held")
        FileManager.default.createFile(atPath: lock, contents: Data())
        #expect(git.removeAbandonedLocks(forRefs: [ref]).isEmpty, "a writer is at work")
        #expect(FileManager.default.fileExists(atPath: lock))

        // The writer died (kill -9): the lock is abandoned, however young.
        writer.stop()  // SIGKILL to its process group: flock and the command holding the lock
        #expect(git.removeAbandonedLocks(forRefs: [ref]) == [lock])
        #expect(!FileManager.default.fileExists(atPath: lock))

        // packed-refs.lock is every git command's: only an old one goes.
        let packed = repo.path + "/.git/packed-refs.lock"
        FileManager.default.createFile(atPath: packed, contents: Data())
        #expect(git.removeAbandonedLocks(forRefs: [ref]).isEmpty)
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: -600)], ofItemAtPath: packed)
        #expect(git.removeAbandonedLocks(forRefs: [ref]) == [packed])
    }
}
