import Foundation
import Testing
@testable import SluiceController
import SluiceCore
import SluiceTestSupport
import SluiceYAML

/// One pass of a repository's watcher against what its pipelines record meanwhile.
@Suite struct WatcherPassTests {
    /// A run that finishes while the next pass waits for its fetch has recorded its commit by the
    /// time that pass acts: the pass must not start the commit again. (Seen with ten thousand
    /// repositories: a webhook's pass queued behind other fetches ran two commits twice.)
    @Test func aRunFinishingWhileThePassFetchesIsNotStartedAgain() async throws {
        let state = TemporaryDirectory(prefix: "sluice-watcher")
        let fifo = state.path + "/release", released = state.path + "/released"
        #expect(mkfifo(fifo, 0o600) == 0)
        // The first run's stage waits until the test releases it; any later run passes at once.
        let stage = "test -e \(released) || { read line < \(fifo); : > \(released); }"
        let repo = try TestRepository()
        let commit = try repo.commit("pipeline", files: ["sluice.yaml": "version: 1\nstages:\n  wait: { run: [sh, -c, '\(stage)'] }\n"])
        let yaml = "repositories:\n  - { name: demo, url: \(repo.path) }\n"
        let decoded = ControllerConfigDecoder.decode(try YAMLParser.parseDocument(Array(yaml.utf8), file: "controller.yaml"), file: "controller.yaml")
        let config = try #require(decoded.config, "\(decoded.diagnostics)")
        let service = try RunService(stateDirectory: state.path, options: PipelineRunner.Options(environment: [:]))
        let watcher = RepositoryWatcher(repository: config.repositories[0], service: service, environment: [:], mergeRequestParallelism: 1,
                                        slots: ControllerSlots(fetches: 1, runs: 1))

        await watcher.reconcileOnce()  // starts the run; its stage waits
        #expect(await watcher.runningPipelines.count == 1)
        // The next pass has fetched (and read the refs as unprocessed) when the run is released and finishes.
        await watcher.setAfterFetch {
            let writer = FileHandle(forWritingAtPath: fifo)
            writer?.write(Data("go\n".utf8))
            try? writer?.close()
            for task in await watcher.runningPipelines { await task.value }
        }
        await watcher.reconcileOnce()
        await watcher.setAfterFetch(nil)
        for task in await watcher.runningPipelines { await task.value }

        let runs = try service.store.runs(limit: 10).filter { $0.commit == commit }
        #expect(runs.map(\.status) == [.succeeded], "one run of the commit: \(runs.map { ($0.id ?? 0, $0.status) })")
    }
}
