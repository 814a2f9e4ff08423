/// What a run's message says about its stages.
public enum StageOutcomes {
    /// "stage train did not succeed; evaluate not run (it needs a stage that did not succeed)": the stages
    /// that failed apart from those that never started because of them. nil: all succeeded.
    public static func unsuccessful(_ stages: [(name: String, status: StageStatus)]) -> String? {
        let failed = stages.filter { !$0.status.isSuccess && $0.status != .blocked }.map(\.name).sorted()
        let blocked = stages.filter { $0.status == .blocked }.map(\.name).sorted()
        var parts: [String] = []
        if !failed.isEmpty { parts.append("stage\(failed.count == 1 ? "" : "s") \(failed.joined(separator: ", ")) did not succeed") }
        if !blocked.isEmpty { parts.append("\(blocked.joined(separator: ", ")) not run (\(blocked.count == 1 ? "it needs" : "they need") a stage that did not succeed)") }
        return parts.isEmpty ? nil : parts.joined(separator: "; ")
    }
}
