import Foundation
import Testing
import SluiceTestSupport

/// examples/house-prices: data in a DVC remote; a new data version (dvc add + push + commit the
/// pointer) retrains — continuous training driven by DVC — and the gate judges the regression rules.
@Suite struct HousePricesExampleTests {
    let sluice = RepositoryLayout.sluiceBinary

    @Test(.enabled(if: RequiredTools.run(whenPresent: ProcessRunner.has("dvc")), "dvc is not installed: SKIPPED"))
    func aNewDVCDataVersionRetrains() throws {
        let (repo, state) = try promotedExample()
        // A new data version: 1500 fresh rows, tracked and pushed with DVC, pointer committed.
        try newDataVersion(repo)
        let plan = try ProcessRunner.run(sluice, ["plan", "--repo", repo.path, "--state", state.path])
        #expect(plan.stdout.contains("dataset houses changed"), "\(plan.stdout)")
        let second = try ProcessRunner.run(sluice, ["run", "--repo", repo.path, "--state", state.path])
        #expect(second.stdout.contains("train          succeeded"), "\(second.stdout)\n\(second.stderr)")
        #expect(second.stdout.contains("fetch          succeeded"))
        let report = try ProcessRunner.run(sluice, ["report", "last", "--state", state.path])
        #expect(report.stdout.contains("| rmse |"), "\(report.stdout)")
        #expect(report.stdout.contains("Production: version 1"))
        #expect(report.stdout.contains("Dataset `houses`"))
    }
}

/// Drift against the production model's data when the data lives in DVC (issue: "DVC drift"):
/// the reference is the production model's data version, read from a DVC cache or remote and
/// checked against its md5.
extension HousePricesExampleTests {
    /// The example with its remote inside the repository, trained once (version 1).
    func promotedExample() throws -> (TestRepository, TemporaryDirectory) {
        let repo = try TestRepository()
        try ProcessRunner.run("cp", ["-R", RepositoryLayout.root() + "/examples/house-prices/.", repo.path])
        try repo.commit("house prices")
        let state = TemporaryDirectory(prefix: "sluice-state")
        let first = try ProcessRunner.run(sluice, ["run", "--repo", repo.path, "--state", state.path])
        #expect(first.status == 0, "\(first.stdout)\n\(first.stderr)")
        #expect(first.stdout.contains("model house-prices version 1 is now in production"))
        return (repo, state)
    }

    func newDataVersion(_ repo: TestRepository, target: String = "data/houses.csv", file: String = "data/houses.csv") throws {
        let python = try ProcessRunner.run("python3", ["src/make_data.py", file, "1500", "2"], cwd: repo.path)
        #expect(python.status == 0, "\(python.stderr)")
        for args in [["add", "-q", target], ["push", "-q"]] {
            let dvc = try ProcessRunner.run("dvc", args, cwd: repo.path)
            #expect(dvc.status == 0, "dvc \(args): \(dvc.stderr)")
        }
        try repo.commit("houses: data version 2")
    }

    /// The KS statistic of `column` between two CSV files, by scipy.
    func scipyKS(_ a: String, _ b: String, column: String) throws -> String {
        let r = try ProcessRunner.run("python3", ["-c", """
            import sys, pandas, scipy.stats
            a, b = pandas.read_csv(sys.argv[1])[sys.argv[3]], pandas.read_csv(sys.argv[2])[sys.argv[3]]
            print(round(float(scipy.stats.ks_2samp(a, b).statistic), 4))
            """, a, b, column])
        return r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func ksCell(_ report: String, column: String) -> String? {
        report.split(separator: "\n").first { $0.hasPrefix("| ✅ | \(column) | ks |") || $0.hasPrefix("| ⚠️ | \(column) | ks |") || $0.hasPrefix("| ❌ | \(column) | ks |") }
            .map { $0.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) } }.map { $0[3] }
    }

    @Test(.enabled(if: RequiredTools.run(whenPresent: ProcessRunner.has("dvc")), "dvc is not installed: SKIPPED"))
    func driftIsMeasuredAgainstTheProductionModelsDVCData() throws {
        let (repo, state) = try promotedExample()
        let v1 = repo.path + "/dvc-store/files/md5/22/a010b80d415d64d018ea02cbe62f0f"   // version 1's object in the example's remote
        try newDataVersion(repo)
        let second = try ProcessRunner.run(sluice, ["run", "--repo", repo.path, "--state", state.path])
        #expect(second.status == 0, "\(second.stdout)\n\(second.stderr)")
        let report = try ProcessRunner.run(sluice, ["report", "last", "--state", state.path]).stdout
        #expect(report.contains("Drift against data/houses.csv of the production model (version 1, DVC md5 22a010b8…)"), "\(report)")
        #expect(!report.contains("no production model"))
        for column in ["area_m2", "price"] {
            #expect(ksCell(report, column: column) == (try scipyKS(v1, repo.path + "/data/houses.csv", column: column)), "\(column)\n\(report)")
        }
    }

    @Test(.enabled(if: RequiredTools.run(whenPresent: ProcessRunner.has("dvc")), "dvc is not installed: SKIPPED"))
    func aReferenceMissingFromTheRemoteSaysWhyAndTheSchemaIsStillChecked() throws {
        let (repo, state) = try promotedExample()
        try newDataVersion(repo)
        // Version 1's object is gone from the remote and from every cache.
        try repo.remove("dvc-store/files/md5/22/a010b80d415d64d018ea02cbe62f0f")
        try? FileManager.default.removeItem(atPath: repo.path + "/.dvc/cache")
        try repo.commit("garbage-collected the remote")
        let second = try ProcessRunner.run(sluice, ["run", "--repo", repo.path, "--state", state.path])
        #expect(second.status == 0, "\(second.stdout)\n\(second.stderr)")
        let report = try ProcessRunner.run(sluice, ["report", "last", "--state", state.path]).stdout
        #expect(report.contains("drift not measured: data/houses.csv of the production model (version 1, DVC md5 22a010b8…) could not be fetched: "
                                + "the object files/md5/22/a010b80d415d64d018ea02cbe62f0f is missing from the DVC remote ../dvc-store"), "\(report)")
        #expect(report.contains("schema checks passed"), "the stage still validates the schema: \(report)")
    }

    /// A folder tracked by DVC (`dvc add data`): the file the stage names is found in the folder's listing.
    @Test(.enabled(if: RequiredTools.run(whenPresent: ProcessRunner.has("dvc")), "dvc is not installed: SKIPPED"))
    func aFolderDatasetComparesTheFileInside() throws {
        let repo = try TestRepository()
        try ProcessRunner.run("cp", ["-R", RepositoryLayout.root() + "/examples/house-prices/.", repo.path])
        for args in [["pull", "-q", "data/houses.csv.dvc"], ["remove", "-q", "data/houses.csv.dvc"], ["add", "-q", "data"], ["push", "-q"]] {
            let dvc = try ProcessRunner.run("dvc", args, cwd: repo.path)
            #expect(dvc.status == 0, "dvc \(args): \(dvc.stderr)")
        }
        let spec = try String(contentsOfFile: repo.path + "/sluice.yaml", encoding: .utf8)
            .replacingOccurrences(of: "{ dvc: data/houses.csv.dvc }", with: "{ dvc: data.dvc }")
            .replacingOccurrences(of: "[dvc, pull, -q, data/houses.csv.dvc]", with: "[dvc, pull, -q, data.dvc]")
            .replacingOccurrences(of: "outputs: [data/houses.csv]", with: "outputs: [data/]")
        try repo.commit("the data folder is tracked", files: ["sluice.yaml": spec])
        let state = TemporaryDirectory(prefix: "sluice-state")
        let first = try ProcessRunner.run(sluice, ["run", "--repo", repo.path, "--state", state.path])
        #expect(first.status == 0, "\(first.stdout)\n\(first.stderr)")
        let v1 = TemporaryDirectory()
        try ProcessRunner.run("cp", [repo.path + "/data/houses.csv", v1.path + "/houses.csv"])
        try newDataVersion(repo, target: "data")
        let second = try ProcessRunner.run(sluice, ["run", "--repo", repo.path, "--state", state.path])
        #expect(second.status == 0, "\(second.stdout)\n\(second.stderr)")
        let report = try ProcessRunner.run(sluice, ["report", "last", "--state", state.path]).stdout
        #expect(report.contains("Drift against data/houses.csv of the production model (version 1, DVC md5 "), "\(report)")
        #expect(ksCell(report, column: "area_m2") == (try scipyKS(v1.path + "/houses.csv", repo.path + "/data/houses.csv", column: "area_m2")), "\(report)")
    }
}
