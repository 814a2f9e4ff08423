/// Sluice could not do the work (missing file, unreachable service): exit code 2.
public struct LoadError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var hint: String?
    public init(message: String, hint: String? = nil) {
        self.message = message
        self.hint = hint
    }
    public var description: String { hint.map { "\(message); \($0)" } ?? message }
}
