import Foundation
import Testing
import SluiceTestSupport

@Suite struct RunCommandTests {
    let sluice = RepositoryLayout.sluiceBinary

    func runsJSON(_ repo: TestRepository, _ state: TemporaryDirectory) throws -> [[String: Any]] {
        let r = try ProcessRunner.run(sluice, ["runs", "--repo", repo.path, "--state", state.path, "--format", "json"])
        #expect(r.status == 0, "\(r.stderr)")
        return try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]])
    }

    /// Pids of live processes whose environment says they belong to run `runID` of `state`.
    static func processes(ofRun runID: Int, state: TemporaryDirectory) -> [Int32] {
        let marker = "SLUICE_WORKSPACE=\(state.path)/workspaces/run-\(runID)"
        return ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap { entry -> Int32? in
            guard let pid = Int32(entry), let env = FileManager.default.contents(atPath: "/proc/\(entry)/environ") else { return nil }
            let isZombie = (try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8))?.contains(") Z ") ?? true
            return !isZombie && env.split(separator: 0).contains { String(decoding: $0, as: UTF8.self) == marker } ? pid : nil
        }
    }

    /// A mistyped command says "command not found", and the run's message names the stage that
    /// failed apart from the one that never started because of it.
    @Test func aMistypedCommandAndWhatItBlockedAreToldApart() throws {
        let repo = try TestRepository()
        try repo.commit("first", files: ["sluice.yaml": """
            version: 1
            stages:
              lint: { run: "rufff check ." }
              train: { run: "echo trained", needs: [lint] }
            """])
        let state = TemporaryDirectory(prefix: "sluice-state")
        let r = try ProcessRunner.run(sluice, ["run", "--repo", repo.path, "--state", state.path])
        #expect(r.status == 1)
        #expect(r.stdout.contains("exited with code 127 (command not found)"), "\(r.stdout)")
        #expect(r.stdout.contains("run 1: failed: stage lint did not succeed; train not run (it needs a stage that did not succeed)"), "\(r.stdout)")
    }

    /// A forgotten --state names the folder looked in, and leaves nothing behind there.
    @Test func readingRunsFromAFolderWithoutARunStoreSaysWhichFolder() throws {
        let empty = TemporaryDirectory(prefix: "sluice-nostate")
        for command in [["runs"], ["logs", "last"], ["report", "last"]] {
            let r = try ProcessRunner.run(sluice, command + ["--state", empty.path])
            #expect(r.status == 2, "\(command): \(r.stdout)")
            #expect(r.stderr.contains("no runs in \(empty.path): it holds no Sluice run store"), "\(command): \(r.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: empty.path + "/sluice.sqlite"))
    }

    @Test func runPrintsPlainProgressAndLogsAndRunsShowTheResult() throws {
        let repo = try TestRepository()
        try repo.commit("first", files: ["sluice.yaml": """
            version: 1
            stages:
              hello: { run: [sh, -c, "echo hello from $SLUICE_STAGE; echo warn >&2"] }
              bye: { run: "echo bye", needs: [hello] }
            """])
        let state = TemporaryDirectory(prefix: "sluice-state")
        let r = try ProcessRunner.run(sluice, ["run", "--repo", repo.path, "--state", state.path])
        #expect(r.status == 0, "\(r.stdout)\n\(r.stderr)")
        #expect(r.stdout.contains("hello: started"))
        #expect(r.stdout.contains("bye: succeeded"))
        #expect(r.stdout.contains("run 1: succeeded"))
        #expect(!r.stdout.contains("\u{1B}["), "no terminal escapes when stdout is not a terminal")

        let logs = try ProcessRunner.run(sluice, ["logs", "1", "hello", "--repo", repo.path, "--state", state.path])
        #expect(logs.stdout.contains(" out hello from hello"))
        #expect(logs.stdout.contains(" err warn"))
        let all = try ProcessRunner.run(sluice, ["logs", "last", "--state", state.path])
        #expect(all.stdout.contains("bye | "))
        // In the order the stages ran, as the web UI lists them (not by name: bye < hello).
        let first = all.stdout.range(of: "hello | "), second = all.stdout.range(of: "bye | ")
        #expect(first != nil && second != nil && first!.lowerBound < second!.lowerBound, "\(all.stdout)")
        // The log files gone (another replica's folder, a lost volume): the archived copies are read.
        try FileManager.default.removeItem(atPath: state.path + "/logs")
        let archived = try ProcessRunner.run(sluice, ["logs", "1", "hello", "--state", state.path])
        #expect(archived.stdout.contains(" out hello from hello") && archived.stdout.contains(" err warn"), "\(archived.stdout)\(archived.stderr)")
        let missing = try ProcessRunner.run(sluice, ["logs", "1", "nope", "--state", state.path])
        #expect(missing.status == 2)
        #expect(missing.stderr.contains("run 1 has no stage 'nope' (stages: "))

        let table = try ProcessRunner.run(sluice, ["runs", "--repo", repo.path, "--state", state.path])
        #expect(table.stdout.contains("succeeded"))
        #expect(table.stdout.contains("2/2 ok"))
    }

    @Test func aFailingStageExitsOne() throws {
        let repo = try TestRepository()
        try repo.commit("first", files: ["sluice.yaml": "version: 1\nstages:\n  boom: { run: \"exit 3\" }\n"])
        let state = TemporaryDirectory(prefix: "sluice-state")
        let r = try ProcessRunner.run(sluice, ["run", "--repo", repo.path, "--state", state.path])
        #expect(r.status == 1)
        #expect(r.stdout.contains("boom: failed after"))
        #expect(r.stdout.contains("exited with code 3"))
    }

    @Test func anInvalidSpecExitsOneWithLocatedErrors() throws {
        let repo = try TestRepository()
        try repo.commit("first", files: ["sluice.yaml": "version: 1\nstages:\n  a: { rnu: true }\n"])
        let r = try ProcessRunner.run(sluice, ["run", "--repo", repo.path, "--state", TemporaryDirectory().path])
        #expect(r.status == 1)
        #expect(r.stderr.contains("sluice.yaml:3:8: error: unknown key 'rnu'"))
    }

    /// The crash test: `kill -9` the controller while a stage runs. The next start marks
    /// the run interrupted, kills the stage it left behind, retries once, and reuses
    /// the stage that had already finished instead of running it again.
    @Test func killDashNineMidStageLosesAndDuplicatesNothing() throws {
        let repo = try TestRepository()
        let scratch = TemporaryDirectory(prefix: "sluice-crash")
        let mark = scratch.path + "/slow-started"
        try repo.commit("first", files: ["sluice.yaml": """
            version: 1
            stages:
              first:
                run: "echo ran >> \(scratch.path)/first-runs; echo done > first.txt"
                outputs: [first.txt]
              slow:
                run: "if [ -e \(mark) ]; then echo second time; else touch \(mark); while true; do sleep 1; done; fi"
                needs: [first]
            """])
        let state = TemporaryDirectory(prefix: "sluice-state")
        let controller = try BackgroundProcess(RepositoryLayout.sluiceBinary, ["run", "--repo", repo.path, "--state", state.path])
        // The first attempt of the slow stage never ends by itself: however late this test
        // resumes (a busy machine), the controller is still inside it when it is killed.
        try waitUntil("the slow stage to start", timeout: 60) { FileManager.default.fileExists(atPath: mark) }
        kill(controller.pid, SIGKILL)
        var status: Int32 = 0
        waitpid(controller.pid, &status, 0)
        #expect(!Self.processes(ofRun: 1, state: state).isEmpty, "the stage should outlive the killed controller")
        #expect(FileManager.default.fileExists(atPath: state.path + "/workspaces/run-1"), "the killed run's workspace is left behind")

        let r = try ProcessRunner.run(sluice, ["run", "--repo", repo.path, "--state", state.path])
        #expect(r.status == 0, "\(r.stdout)\n\(r.stderr)")
        #expect(r.stderr.contains("run 1 (\(try repo.git(["rev-parse", "HEAD"]).prefix(12))) was interrupted by a crash; queued again as run 2"))
        #expect(Self.processes(ofRun: 1, state: state).isEmpty, "the orphaned stage of run 1 must be killed")
        // Its workspace is freed before the interruption is recorded: when a full disk stopped the
        // run, that space is what the record needs.
        #expect(!FileManager.default.fileExists(atPath: state.path + "/workspaces/run-1"))

        let runs = try runsJSON(repo, state)
        #expect(runs.count == 2, "exactly one retry")
        let byID = Dictionary(uniqueKeysWithValues: runs.map { (($0["run"] as! [String: Any])["id"] as! Int, $0) })
        func run(_ id: Int) -> [String: Any] { byID[id]?["run"] as? [String: Any] ?? [:] }
        func stages(_ id: Int) -> [String: String] {
            Dictionary(uniqueKeysWithValues: ((byID[id]?["stages"] as? [[String: Any]]) ?? []).map { ($0["stage"] as! String, $0["status"] as! String) })
        }
        #expect(run(1)["status"] as? String == "interrupted")
        #expect(stages(1) == ["first": "succeeded", "slow": "interrupted"])
        #expect(run(2)["status"] as? String == "succeeded")
        #expect(run(2)["retryOf"] as? Int == 1)
        #expect(stages(2) == ["first": "cached", "slow": "succeeded"])
        // The finished stage ran exactly once.
        #expect(try String(contentsOfFile: scratch.path + "/first-runs", encoding: .utf8) == "ran\n")
        // A third start finds nothing to recover.
        let again = try ProcessRunner.run(sluice, ["runs", "--repo", repo.path, "--state", state.path])
        #expect(!again.stderr.contains("interrupted"))
        withExtendedLifetime(controller) {}
    }
}
