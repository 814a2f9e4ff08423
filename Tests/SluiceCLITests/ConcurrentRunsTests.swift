import Foundation
import Synchronization
import Testing
import SluiceTestSupport

/// Runs of the same inputs at once share the work (held-out reliability probe: three
/// simultaneous `sluice run` of one commit each executed every stage; DVC takes a lock and runs
/// once): each stage executes once, the other runs wait for it and restore its result.
@Suite struct ConcurrentRunsTests {
    let sluice = RepositoryLayout.sluiceBinary

    @Test func threeRunsOfOneCommitExecuteEachStageOnce() throws {
        let repo = try TestRepository()
        let counter = TemporaryDirectory(prefix: "sluice-executions")
        let executions = counter.path + "/executions"
        try repo.commit("pipeline", files: ["sluice.yaml": """
            version: 1
            stages:
              prepare:
                run: [sh, -c, "echo prepare >> \(executions); sleep 1; echo rows > data.txt"]
                outputs: [data.txt]
              train:
                run: [sh, -c, "echo train >> \(executions); sleep 1; cp data.txt model.txt"]
                needs: [prepare]
                outputs: [model.txt]
            """])
        let state = TemporaryDirectory(prefix: "sluice-state")
        let outputs = Mutex<[(status: Int32, stdout: String)]>([])
        DispatchQueue.concurrentPerform(iterations: 3) { _ in
            do {
                let r = try ProcessRunner.run(sluice, ["run", "--repo", repo.path, "--state", state.path])
                outputs.withLock { $0.append((r.status, r.stdout + r.stderr)) }
            } catch {
                outputs.withLock { $0.append((-1, "\(error)")) }
            }
        }
        let runs = outputs.withLock { $0 }
        #expect(runs.count == 3)
        for run in runs { #expect(run.status == 0, "\(run.stdout)") }
        let executed = try String(contentsOfFile: executions, encoding: .utf8).split(separator: "\n")
        #expect(executed.sorted() == ["prepare", "train"], "each stage executed once, not once per run: \(executed)")
        // Which run executes which stage is the scheduler's choice (one may take prepare and
        // another train); across the three, each stage starts once and is restored twice.
        for stage in ["prepare", "train"] {
            #expect(runs.filter { $0.stdout.contains("\(stage): started") }.count == 1, "\(stage) started once: \(runs.map(\.stdout))")
            #expect(runs.filter { $0.stdout.contains("\(stage): cached") }.count == 2, "\(stage) restored twice: \(runs.map(\.stdout))")
        }
    }
}
