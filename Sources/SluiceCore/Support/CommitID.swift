/// A git commit's full object id (40 hex digits, 64 in a SHA-256 repository). Stored and
/// compared in full; `short` is for people (messages, reports, the UI).
public struct CommitID: Hashable, Sendable, Codable, CustomStringConvertible {
    public let full: String

    public init(_ full: String) { self.full = full }

    /// The first 12 digits: unique in any repository people work with, short enough to read.
    public var short: String { String(full.prefix(12)) }
    public var description: String { full }

    public init(from decoder: any Decoder) throws { full = try decoder.singleValueContainer().decode(String.self) }
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(full)
    }
}
