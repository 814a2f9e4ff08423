public import SluiceCore

/// A YAML file that libyaml could not read: its problem text and where.
public struct YAMLError: Error, Sendable, CustomStringConvertible {
    public var diagnostic: Diagnostic
    public init(_ diagnostic: Diagnostic) { self.diagnostic = diagnostic }
    public var description: String { DiagnosticRenderer.line(diagnostic) }
}
