import Foundation
import Testing
import SluiceCore
import SluiceGit
import SluiceTestSupport
@testable import SluiceController

/// Plans real commits of real repositories and checks decisions and their reasons.
@Suite struct CommitPlannerTests {
    static let spec = """
    version: 1
    datasets:
      iris: { path: data/iris.csv }
      images: { dvc: data/images.dvc }
    stages:
      lint: { run: ruff check src, when: { paths: ["src/**"] } }
      test: { run: pytest -q, needs: [lint] }
      validate: { uses: validate-data, with: { data: data/iris.csv, schema: schemas/iris.yaml }, when: { datasets: [iris] } }
      train:
        run: [python, src/train.py]
        needs: [test, validate]
        when: { datasets: [iris, images], paths: ["src/**", "params.yaml"] }
        params: ["params.yaml:train.lr"]
      evaluate: { run: python src/evaluate.py, needs: [train], metrics: metrics.json }
      docs: { run: mkdocs build, when: { paths: ["docs/*.md"] } }
    """

    static func pointer(_ md5: String) -> String {
        "outs:\n- md5: \(md5)\n  size: 1024\n  nfiles: 3\n  hash: md5\n  path: images\n"
    }

    func makeRepository() throws -> TestRepository {
        let repo = try TestRepository()
        try repo.commit("first", files: [
            "sluice.yaml": Self.spec, "data/iris.csv": "a,b\n1,2\n", "schemas/iris.yaml": "columns: {}\n",
            "data/images.dvc": Self.pointer("aaaa0000aaaa0000aaaa0000aaaa0000.dir"),
            "src/train.py": "print(1)\n", "src/evaluate.py": "print(2)\n", "params.yaml": "train:\n  lr: 0.1\n  epochs: 3\n",
            "docs/index.md": "# docs\n",
        ])
        return repo
    }

    func plan(_ repo: TestRepository, _ revision: String = "HEAD", since: String? = nil, keys: Set<String> = []) throws -> CommitPlanner.Outcome {
        try CommitPlanner(repository: try GitRepository(path: repo.path)).plan(revision: revision, since: since, knownCacheKeys: { _ in keys })
    }

    func decisions(_ outcome: CommitPlanner.Outcome) -> [String: PlannedStage.Decision] {
        Dictionary(uniqueKeysWithValues: (outcome.plan?.stages ?? []).map { ($0.name, $0.decision) })
    }

    func reasons(_ outcome: CommitPlanner.Outcome, _ stage: String) -> [String] {
        outcome.plan?.stages.first { $0.name == stage }?.reasons ?? []
    }

    @Test func firstCommitRunsEverything() throws {
        let outcome = try plan(try makeRepository())
        #expect(outcome.plan?.stages.map(\.name) == ["lint", "test", "validate", "train", "evaluate", "docs"])
        #expect(outcome.plan?.stagesToRun.count == 6)
        #expect(reasons(outcome, "train") == ["first commit on this ref"])
    }

    @Test func sourceChangeRunsCodeStagesAndTheirNeeds() throws {
        let repo = try makeRepository()
        try repo.commit("src", files: ["src/train.py": "print(42)\n"])
        let outcome = try plan(repo)
        let d = decisions(outcome)
        #expect(d == ["lint": .run, "test": .run, "validate": .run, "train": .run, "evaluate": .run, "docs": .skip])
        #expect(reasons(outcome, "lint") == ["paths changed: src/train.py"])
        #expect(reasons(outcome, "validate") == ["needed by train"])
        #expect(reasons(outcome, "docs") == ["no declared input changed"])
    }

    @Test func dataChangeNamesOldAndNewVersions() throws {
        let repo = try makeRepository()
        let before = try repo.git(["rev-parse", "HEAD:data/iris.csv"])
        try repo.commit("data", files: ["data/iris.csv": "a,b\n1,3\n"])
        let after = try repo.git(["rev-parse", "HEAD:data/iris.csv"])
        let outcome = try plan(repo)
        #expect(reasons(outcome, "validate") == ["dataset iris changed: \(before.prefix(8)).. -> \(after.prefix(8)).."])
        #expect(decisions(outcome)["lint"] == .run)
        #expect(reasons(outcome, "lint") == ["needed by test"])
        #expect(decisions(outcome)["docs"] == .skip)
    }

    @Test func dvcPointerChangeTriggersTraining() throws {
        let repo = try makeRepository()
        try repo.commit("new images", files: ["data/images.dvc": Self.pointer("bbbb1111bbbb1111bbbb1111bbbb1111.dir")])
        let outcome = try plan(repo)
        #expect(reasons(outcome, "train") == ["dataset images changed: aaaa0000.. -> bbbb1111.."])
        #expect(decisions(outcome)["validate"] == .run)
        #expect(reasons(outcome, "validate") == ["needed by train"])
    }

    @Test func unrelatedParameterChangeKeepsTheCacheKey() throws {
        let repo = try makeRepository()
        let first = try plan(repo)
        try repo.commit("epochs", files: ["params.yaml": "train:\n  lr: 0.1\n  epochs: 5\n"])
        let second = try plan(repo)
        // params.yaml matched the trigger, so train is planned to run...
        #expect(decisions(second)["train"] == .run)
        // ...but its key depends on params.yaml's tree entry via the glob, and on train.lr:
        let keyOf = { (o: CommitPlanner.Outcome, s: String) in o.plan?.stages.first { $0.name == s }?.cacheKey }
        #expect(keyOf(first, "docs") == keyOf(second, "docs"))
        #expect(keyOf(first, "train") != keyOf(second, "train"))
        #expect(keyOf(first, "lint") == keyOf(second, "lint"))
    }

    @Test func knownCacheKeysBecomeCacheHits() throws {
        let repo = try makeRepository()
        let first = try plan(repo)
        let lintKey = try #require(first.plan?.stages.first { $0.name == "lint" }?.cacheKey)
        try repo.commit("revert-like", files: ["docs/index.md": "# changed\n"])
        let outcome = try plan(repo, since: "HEAD~1", keys: [lintKey])
        #expect(decisions(outcome)["docs"] == .run)
        // lint is needed by test (which runs on every commit) and its inputs are unchanged.
        #expect(decisions(outcome)["lint"] == .cached)
        // Same content as the first commit for lint: a rerun of the first commit hits the cache.
        let rerun = try plan(repo, "HEAD~1", keys: [lintKey])
        #expect(decisions(rerun)["lint"] == .cached)
    }

    @Test func forcePushPlansAgainstTheMergeBase() throws {
        let repo = try makeRepository()
        let base = try repo.git(["rev-parse", "HEAD"])
        let lost = try repo.commit("will be rewritten", files: ["docs/index.md": "# lost\n"])
        try repo.git(["reset", "-q", "--hard", base])
        try repo.commit("rewritten", files: ["src/train.py": "print(7)\n"])
        let outcome = try plan(repo, since: lost)
        #expect(outcome.plan?.baseCommit == base)
        #expect(outcome.notes.contains { $0.contains("history rewritten") && $0.contains(String(base.prefix(12))) })
        #expect(decisions(outcome)["docs"] == .skip)
        #expect(decisions(outcome)["lint"] == .run)
    }

    @Test func commitWithoutSpecSaysSo() throws {
        let repo = try TestRepository()
        try repo.commit("no spec", files: ["README.md": "hi\n"])
        let outcome = try plan(repo)
        #expect(outcome.plan == nil)
        #expect(outcome.diagnostics.isEmpty)
        #expect(outcome.notes.contains { $0.contains("has no sluice.yaml") })
    }

    @Test func invalidSpecInTheCommitGivesLocatedErrors() throws {
        let repo = try TestRepository()
        try repo.commit("bad", files: ["sluice.yaml": "version: 1\nstages:\n  a: { run: x, needs: [b] }\n"])
        let outcome = try plan(repo)
        #expect(outcome.plan == nil)
        #expect(outcome.diagnostics.map(DiagnosticRenderer.line) == ["sluice.yaml:3:24: error: stage 'a' needs unknown stage 'b'; declare it under 'stages'"])
    }

    @Test func missingRevisionIsAnError() throws {
        let repo = try makeRepository()
        #expect(throws: GitError.self) { try plan(repo, "does-not-exist") }
    }

    @Test func shallowCloneIsNoted() throws {
        let repo = try makeRepository()
        try repo.commit("two", files: ["src/train.py": "print(3)\n"])
        let clone = TemporaryDirectory(prefix: "sluice-shallow")
        try ProcessRunner.run("git", ["clone", "-q", "--depth", "1", "file://" + repo.path, clone.path + "/c"])
        let outcome = try CommitPlanner(repository: try GitRepository(path: clone.path + "/c")).plan()
        #expect(outcome.notes.contains { $0.contains("shallow") })
        #expect(outcome.plan != nil)
    }
}
