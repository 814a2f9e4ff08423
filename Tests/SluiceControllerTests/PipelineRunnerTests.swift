import Foundation
import Synchronization
import Testing
import SluiceCore
import SluiceGit
import SluiceRunner
import SluiceStore
import SluiceTestSupport
@testable import SluiceController

/// Real pipelines on real repositories: parallel stages, caching, outputs, failures.
@Suite struct PipelineRunnerTests {
    final class Events: Sendable {
        let events = Mutex<[RunEvent]>([])
        func add(_ e: RunEvent) { events.withLock { $0.append(e) } }
        var started: [String] { events.withLock { $0.compactMap { if case .stageStarted(let s) = $0 { return s } else { return nil } } } }
    }

    struct Fixture {
        let repo: TestRepository
        let state = TemporaryDirectory(prefix: "sluice-state")
        let service: RunService

        init(_ files: [String: String], jobs: Int = 4, grace: Double = 0.5) throws {
            repo = try TestRepository()
            try repo.commit("first", files: files)
            var options = PipelineRunner.Options(jobs: jobs, environment: ["PATH": "/usr/local/bin:/usr/bin:/bin", "HF_TOKEN": "hf-secret-value-123"])
            options.killGraceSeconds = grace
            service = try RunService(stateDirectory: state.path, options: options)
        }

        /// Runs HEAD; returns the run, its stages by name, and the events.
        func run(revision: String = "HEAD") async throws -> (RunRecord, [String: StageResultRecord], Events) {
            let git = try GitRepository(path: repo.path)
            guard case .run(let record, let work) = try service.prepare(repository: git, repositoryKey: repo.path, revision: revision,
                                                                        since: nil, ref: "refs/heads/main", trigger: "test") else {
                Issue.record("no spec")
                throw CancellationError()
            }
            let events = Events()
            _ = try await service.runner.execute(record, commit: try git.commit(work.plan.commit), work: work, events: events.add)
            let run = try #require(try service.store.run(record.id!))
            let stages = Dictionary(uniqueKeysWithValues: try service.store.stages(of: record.id!).map { ($0.stage, $0) })
            return (run, stages, events)
        }

        func log(_ s: StageResultRecord?) -> String {
            (s?.logPath).flatMap { try? String(contentsOfFile: $0, encoding: .utf8) } ?? ""
        }
    }

    @Test func runsTheDAGInParallelStoresOutputsAndCachesTheSecondTime() async throws {
        let f = try Fixture([
            "sluice.yaml": """
            version: 1
            stages:
              a: { run: "touch a.started; while [ ! -e b.started ]; do sleep 0.05; done; echo a > a.txt", outputs: [a.txt], timeout: 60s }
              b: { run: "touch b.started; while [ ! -e a.started ]; do sleep 0.05; done; mkdir -p out/sub && echo b > out/sub/b.txt", outputs: [out/], timeout: 60s }
              c:
                run: [sh, -c, "cat a.txt out/sub/b.txt > c.txt && echo '{\\"accuracy\\": 0.9}' > m.json && echo \\"$SLUICE_STAGE $SLUICE_RUN_ID\\""]
                needs: [a, b]
                outputs: [c.txt]
                metrics: m.json
            """,
        ])
        let (run, stages, _) = try await f.run()
        #expect(run.status == .succeeded, "\(stages.mapValues(\.message))")
        // a and b each wait until the other has started: they can only both succeed side by side.
        #expect(Self.overlap(stages["a"], stages["b"]), "independent stages a and b should run at the same time")
        #expect(!Self.overlap(stages["a"], stages["c"]) && !Self.overlap(stages["b"], stages["c"]), "c needs a and b")
        #expect(f.log(stages["c"]).contains("out c \(run.id!)"))
        let artifacts = try f.service.store.artifacts(of: run.id!)
        #expect(artifacts.map(\.path) == ["a.txt", "out/", "c.txt"])  // ordered by stage
        let lineage = try #require(artifacts.first { $0.path == "c.txt" }?.lineage)
        #expect(lineage.contains("\"commit\":\"\(run.commit)\"") && lineage.contains("\"stage\":\"c\""))
        let metrics = try f.service.store.reports(of: run.id!).first { $0.kind == "metrics" }
        #expect(metrics?.content == "{\"accuracy\":0.9}")

        // Same commit again: every stage is a cache hit, outputs come back from the store.
        let (second, again, events) = try await f.run()
        #expect(second.status == .succeeded)
        #expect(again.values.allSatisfy { $0.status == .cached && $0.cacheHit })
        #expect(events.started.isEmpty, "nothing is executed again")
        #expect(f.log(again["c"]).contains("cache hit"))
        #expect(try f.service.store.reports(of: second.id!).first { $0.kind == "metrics" }?.content == "{\"accuracy\":0.9}")
    }

    @Test func aFailedStageBlocksWhatNeedsItButNotItsSiblings() async throws {
        let f = try Fixture([
            "sluice.yaml": """
            version: 1
            stages:
              broken: { run: "echo about to fail; exit 4" }
              after: { run: "true", needs: [broken] }
              sibling: { run: "echo fine" }
            """,
        ])
        let (run, stages, _) = try await f.run()
        #expect(run.status == .failed)
        #expect(stages["broken"]?.status == .failed)
        #expect(stages["broken"]?.exitCode == 4)
        #expect(stages["after"]?.status == .blocked)
        #expect(stages["after"]?.message == "not run: stage 'broken' it needs did not succeed")
        #expect(stages["sibling"]?.status == .succeeded)
        #expect(f.log(stages["broken"]).contains("out about to fail"))
    }

    @Test func timeoutsAreEnforcedAndSecretsMasked() async throws {
        let f = try Fixture([
            "sluice.yaml": """
            version: 1
            stages:
              slow: { run: "echo token=$HF_TOKEN; sleep 30", timeout: 1s, secrets: [HF_TOKEN] }
            """,
        ])
        let (run, stages, _) = try await f.run()
        #expect(run.status == .failed)
        #expect(stages["slow"]?.message?.contains("timed out") == true)
        let log = f.log(stages["slow"])
        #expect(log.contains("token=***"))
        #expect(!log.contains("hf-secret-value-123"))
    }

    @Test func outputsThroughSymlinksOutOfTheWorkspaceAreRefused() async throws {
        let f = try Fixture([
            "sluice.yaml": """
            version: 1
            stages:
              sneaky: { run: "ln -s /etc model", outputs: [model/] }
            """,
        ])
        let (run, stages, _) = try await f.run()
        #expect(run.status == .failed)
        #expect(stages["sneaky"]?.message?.contains("leads outside the workspace through a symbolic link") == true)
        #expect(try f.service.store.artifacts(of: run.id!).isEmpty)
    }

    @Test func aStageThatDeletesItsWorkspaceFailsTheNextOneClearly() async throws {
        let f = try Fixture([
            "sluice.yaml": """
            version: 1
            stages:
              vandal: { run: "rm -rf \\"$SLUICE_WORKSPACE\\"" }
              next: { run: "true", needs: [vandal] }
            """,
        ])
        let (run, stages, _) = try await f.run()
        #expect(run.status == .failed)
        #expect(stages["next"]?.status == .failed)
        #expect(stages["next"]?.message?.contains("is gone") == true, "\(stages["next"]?.message ?? "")")
    }

    @Test func missingOutputsAndMetricsAreStageFailures() async throws {
        let f = try Fixture([
            "sluice.yaml": """
            version: 1
            stages:
              forgetful: { run: "true", outputs: [model.bin] }
              quiet: { run: "true", metrics: metrics.json }
            """,
        ])
        let (_, stages, _) = try await f.run()
        #expect(stages["forgetful"]?.message?.contains("declared output 'model.bin' was not produced") == true)
        #expect(stages["quiet"]?.message?.contains("did not write its metrics file 'metrics.json'") == true)
    }

    @Test func validateDataFailsTheStageWithLinesAndStoresTheReport() async throws {
        var csv = "x,kind\n"
        for i in 0..<20 { csv += "\(i),a\n" }
        csv += "oops,z\n"
        let f = try Fixture([
            "data/d.csv": csv,
            "schemas/d.yaml": "columns:\n  x: { type: number }\n  kind: { type: string, allowed: [a, b] }\n",
            "sluice.yaml": """
            version: 1
            stages:
              validate: { uses: validate-data, with: { data: data/d.csv, schema: schemas/d.yaml } }
              train: { run: "true", needs: [validate] }
            """,
        ])
        let (run, stages, _) = try await f.run()
        #expect(run.status == .failed)
        #expect(stages["validate"]?.message == "data validation failed: 2 checks failed, drift in 0 columns")
        #expect(stages["train"]?.status == .blocked)
        let log = f.log(stages["validate"])
        #expect(log.contains("column 'x' type") && log.contains("lines 22"))
        let report = try #require(try f.service.store.reports(of: run.id!).first { $0.kind == "validation" })
        #expect(report.content.contains("\"verdict\":\"fail\""))
    }

    @Test func parallelismIsLimitedByJobs() async throws {
        let f = try Fixture([
            "sluice.yaml": """
            version: 1
            stages:
              a: { run: "sleep 0.3" }
              b: { run: "sleep 0.31" }
              c: { run: "sleep 0.32" }
            """,
        ], jobs: 1)
        let (run, stages, _) = try await f.run()
        #expect(run.status == .succeeded)
        for (x, y) in [("a", "b"), ("a", "c"), ("b", "c")] {
            #expect(!Self.overlap(stages[x], stages[y]), "\(x) and \(y) ran at the same time with jobs: 1")
        }
    }

    /// Whether two stages' recorded [start, end] intervals intersect.
    static func overlap(_ a: StageResultRecord?, _ b: StageResultRecord?) -> Bool {
        guard let a0 = a?.startedAt, let a1 = a?.finishedAt, let b0 = b?.startedAt, let b1 = b?.finishedAt else { return false }
        return a0 < b1 && b0 < a1
    }
}
