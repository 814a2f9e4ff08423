/// What one commit must run, stage by stage, with the reasons a user reads.
public struct Plan: Hashable, Sendable, Codable {
    public var commit: String
    public var baseCommit: String?
    public var stages: [PlannedStage]
    public var notes: [String]

    public var stagesToRun: [PlannedStage] { stages.filter { $0.decision == .run } }
}

public struct PlannedStage: Hashable, Sendable, Codable {
    public enum Decision: String, Hashable, Sendable, Codable {
        case run
        case skip
        /// The stage would run, but its outputs for this exact cache key already exist.
        case cached
    }

    public var name: String
    public var decision: Decision
    public var reasons: [String]
    /// Content-based: command, env, input versions, parameters and the keys of needed stages.
    public var cacheKey: String
    public var needs: [String]
    /// Triggered by a schedule or a live metric: runs even if its cache key is known.
    public var forced: Bool = false
}
