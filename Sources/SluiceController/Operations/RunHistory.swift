import FoundationEssentials
public import SluiceCore
import SluiceServer
import SluiceStore

/// The run store as the commands read it (`sluice runs`, `logs`, `report`): runs, their stages
/// and their reports, found by id or `last`.
public struct RunHistory: Sendable {
    let store: RunStore

    /// Opens the run store of `stateDirectory` (or `SLUICE_DATABASE_URL`'s). A folder with no
    /// run store is an error that names it (a forgotten `--state` would otherwise read as "no
    /// runs yet", and leave an empty store behind).
    public init(stateDirectory: String, environment: [String: String]) throws {
        guard RunStores.exists(stateDirectory: stateDirectory, environment: environment) else {
            throw LoadError(message: "no runs in \(stateDirectory): it holds no Sluice run store",
                            hint: "give --state (or set SLUICE_STATE) to the folder `sluice run` or the controller used")
        }
        store = try RunStores.open(stateDirectory: stateDirectory, environment: environment)
    }

    /// The newest runs first (of `repository` when given).
    public func runs(repository: String?, limit: Int) throws -> [RunRecord] {
        try store.runs(repository: repository, limit: limit)
    }

    public func run(_ id: Int64) throws -> RunRecord? { try store.run(id) }

    /// A run by id, or `last`: the newest run (of `repository` when given). nil: no such run.
    public func find(_ id: String, repository: String?) throws -> RunRecord? {
        if id == "last" { return try store.runs(repository: repository, limit: 1).first }
        guard let n = Int64(id) else { return nil }
        return try store.run(n)
    }

    /// A run's stages in the order they ran (as the web UI lists them); those that did not
    /// start last, by name.
    public func stages(of run: Int64) throws -> [StageResultRecord] {
        try store.stages(of: run).sorted { ($0.startedAt ?? .infinity, $0.stage) < ($1.startedAt ?? .infinity, $1.stage) }
    }

    /// A stage's log: this state folder's file, or the copy archived when the stage finished.
    public func log(of stage: StageResultRecord) throws -> Data? {
        try store.stageLog(stage)
    }

    /// Writes the run's charts (`RunCharts`) into `folder` as SVG files; returns their names.
    public func writeCharts(of run: Int64, to folder: String) throws -> [String] {
        try RunCharts.write(try RunCharts.charts(run: run, store: store), to: folder)
    }

    /// The run's gate report: nil when it has none, an error when the stored one cannot be read.
    public func gateReport(of run: Int64) throws -> GateReport? {
        try ReportRecord.gateReport(in: try store.reports(of: run))
    }
}
