import Foundation
import Testing
import SluiceTestSupport

/// `sluice init` (issue: "from zero to a first merge-request report"): on the examples with
/// their sluice.yaml, policies and schemas deleted, and on a repository the test makes, it writes
/// files that `sluice validate` accepts and whose first run passes validate-data on the data.
@Suite struct InitCommandTests {
    let sluice = RepositoryLayout.sluiceBinary

    /// An example without what a user would have to write.
    func bareExample(_ name: String) throws -> TestRepository {
        let repo = try TestRepository()
        try ProcessRunner.run("cp", ["-R", RepositoryLayout.root() + "/examples/\(name)/.", repo.path])
        try ProcessRunner.run("rm", ["-rf", "sluice.yaml", "policies", "schemas"], cwd: repo.path)
        return repo
    }

    /// init, validate, commit, run; the run's JSON summary.
    func initAndRun(_ repo: TestRepository) throws -> (initOutput: String, run: [String: Any]) {
        let initialized = try ProcessRunner.run(sluice, ["init", repo.path])
        #expect(initialized.status == 0, "\(initialized.stdout)\n\(initialized.stderr)")
        let validate = try ProcessRunner.run(sluice, ["validate", "--repo", repo.path], cwd: repo.path)
        let written = try String(contentsOfFile: repo.path + "/sluice.yaml", encoding: .utf8)
        #expect(validate.status == 0, "\(validate.stdout)\n\(validate.stderr)\n\(written)")
        try repo.commit("sluice init")
        let state = TemporaryDirectory(prefix: "sluice-state")
        let run = try ProcessRunner.run(sluice, ["run", "--repo", repo.path, "--state", state.path, "--format", "json"])
        let summary = (try? JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any]) ?? [:]
        #expect(!summary.isEmpty, "\(run.stdout)\n\(run.stderr)")
        return (initialized.stdout, summary)
    }

    func status(of stage: String, in summary: [String: Any]) -> String? {
        (summary["stages"] as? [[String: Any]])?.first { $0["stage"] as? String == stage }?["status"] as? String
    }

    @Test func theIrisExampleGetsASpecPolicyAndSchemaItsDataPasses() throws {
        let repo = try bareExample("iris")
        let (output, run) = try initAndRun(repo)
        #expect(output.contains("wrote schemas/iris.yaml: 5 columns inferred from data/iris.csv (150 rows)"), "\(output)")
        #expect(output.contains("gates on accuracy, f1_macro"), "\(output)")
        #expect(status(of: "validate-iris", in: run) == "succeeded", "\(run)")
        #expect(status(of: "lint", in: run) == "succeeded")
        #expect(status(of: "test", in: run) == "succeeded")
        let schema = try String(contentsOfFile: repo.path + "/schemas/iris.yaml", encoding: .utf8)
        #expect(schema.contains("species:      { type: string, allowed: [setosa, versicolor, virginica] }"), "\(schema)")
    }

    @Test(.enabled(if: RequiredTools.run(whenPresent: ProcessRunner.has("dvc")), "dvc is not installed: SKIPPED"))
    func theHousePricesExampleReadsItsDataFromTheDVCRemote() throws {
        let repo = try bareExample("house-prices")
        let (output, run) = try initAndRun(repo)
        // data/houses.csv is not in git: its schema comes from the object DVC's folder remote holds.
        #expect(output.contains("7 columns inferred from data/houses.csv (DVC's copy, md5 22a010b8…) (1000 rows)"), "\(output)")
        #expect(output.contains("gates on rmse, mae, r2"), "\(output)")
        #expect(status(of: "fetch-houses", in: run) == "succeeded", "\(run)")
        #expect(status(of: "validate-houses", in: run) == "succeeded", "\(run)")
        let spec = try String(contentsOfFile: repo.path + "/sluice.yaml", encoding: .utf8)
        #expect(spec.contains("houses: { dvc: data/houses.csv.dvc }"), "\(spec)")
    }

    /// What a user's own repository holds: JSON lines with missing values, an id, flags, negative
    /// numbers, free text; no training code yet.
    @Test func aRepositoryOfItsOwnGetsASchemaForEveryKindOfColumn() throws {
        let repo = try TestRepository()
        var lines: [String] = []
        for i in 0..<40 {
            let region = ["north", "south", "east"][i % 3]
            let income = i % 10 == 0 ? "null" : String(Double(i) * 1.5 - 20)
            lines.append("{\"id\": \(1000 + i), \"region\": \"\(region)\", \"active\": \(i % 2 == 0), \"balance\": \(income), \"note\": \"free text \(i)\"}")
        }
        try repo.commit("data", files: ["data/accounts.jsonl": lines.joined(separator: "\n") + "\n", "tests/test_nothing.py": "def test_ok():\n    assert True\n"])
        let (output, run) = try initAndRun(repo)
        #expect(output.contains("note: no train.py found"), "\(output)")
        #expect(status(of: "validate-accounts", in: run) == "succeeded", "\(run)")
        let schema = try String(contentsOfFile: repo.path + "/schemas/accounts.yaml", encoding: .utf8)
        for line in ["active:  { type: boolean }", "balance: { type: number, nullable: true, min: -25, max: 45 }",
                     "id:      { type: integer, min: 996, max: 1043, unique: true }", "note:    { type: string, unique: true }",
                     "region:  { type: string, allowed: [east, north, south] }"] {
            #expect(schema.contains(line), "\(line) not in\n\(schema)")
        }
    }

    @Test func filesThatExistAreNotOverwrittenWithoutForce() throws {
        let repo = try bareExample("iris")
        try repo.commit("iris", files: ["sluice.yaml": "version: 1\nstages: {}\n"])
        let refused = try ProcessRunner.run(sluice, ["init", repo.path])
        #expect(refused.status == 2)
        #expect(refused.stderr.contains("sluice.yaml already exists; sluice init does not overwrite them (use --force to replace them)"), "\(refused.stderr)")
        let kept = try String(contentsOfFile: repo.path + "/sluice.yaml", encoding: .utf8)
        #expect(kept == "version: 1\nstages: {}\n")
        #expect(!FileManager.default.fileExists(atPath: repo.path + "/schemas/iris.yaml"), "nothing is written when one file is refused")
        let forced = try ProcessRunner.run(sluice, ["init", repo.path, "--force"])
        #expect(forced.status == 0, "\(forced.stderr)")
        let replaced = try String(contentsOfFile: repo.path + "/sluice.yaml", encoding: .utf8)
        #expect(replaced.contains("validate-iris"))
    }
}
