import FoundationEssentials

extension PipelineRunner {
    /// Where run `runID` checks its commit out and its stages run.
    public func workspace(of runID: Int64) -> String { "\(stateDirectory)/workspaces/run-\(runID)" }

    /// Removes a run's workspace (after it ends, or when it died). A workspace that cannot be
    /// removed is left for the next run of that id to replace; nothing is decided on it.
    func removeWorkspace(of runID: Int64) {
        do { try FileManager.default.removeItem(atPath: workspace(of: runID)) } catch {
            // Absent already (the common case), or held by a file system that refuses: nothing to do here.
            return
        }
    }
}
