import Foundation
import Testing
import SluiceTestSupport

/// examples/house-prices: data in a DVC remote; a new data version (dvc add + push + commit the
/// pointer) retrains — continuous training driven by DVC — and the gate judges the regression rules.
@Suite struct HousePricesExampleTests {
    let sluice = RepositoryLayout.sluiceBinary

    @Test(.enabled(if: RequiredTools.run(whenPresent: ProcessRunner.has("dvc")), "dvc is not installed: SKIPPED"))
    func aNewDVCDataVersionRetrains() throws {
        let repo = try TestRepository()
        try ProcessRunner.run("cp", ["-R", RepositoryLayout.root() + "/examples/house-prices/.", repo.path])
        try repo.commit("house prices")
        let state = TemporaryDirectory(prefix: "sluice-state")
        let first = try ProcessRunner.run(sluice, ["run", "--repo", repo.path, "--state", state.path])
        #expect(first.status == 0, "\(first.stdout)\n\(first.stderr)")
        #expect(first.stdout.contains("model house-prices version 1 is now in production"))

        // A new data version: 1500 fresh rows, tracked and pushed with DVC, pointer committed.
        let python = try ProcessRunner.run("python3", ["src/make_data.py", "data/houses.csv", "1500", "2"], cwd: repo.path)
        #expect(python.status == 0, "\(python.stderr)")
        for args in [["add", "-q", "data/houses.csv"], ["push", "-q"]] {
            let dvc = try ProcessRunner.run("dvc", args, cwd: repo.path)
            #expect(dvc.status == 0, "dvc \(args): \(dvc.stderr)")
        }
        try repo.commit("houses: data version 2")
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
