import SluiceCore

/// Runs a helper program Sluice itself needs (not a stage), e.g. `kubectl kustomize`: argv
/// only, no shell, its output collected, a timeout, and the same process-group cleanup as a stage.
public enum Command {
    public struct Result: Sendable {
        public var status: Int32?
        public var stdout: String
        public var stderr: String
        public var summary: String
    }

    public static func run(_ arguments: [String], workingDirectory: String, environment: [String: String],
                           timeoutSeconds: Double = 60) throws(StageProcess.SpawnError) -> Result {
        var spec = ProcessSpec(arguments: arguments, workingDirectory: workingDirectory, environment: environment,
                               timeoutSeconds: timeoutSeconds, masker: SecretMasker())
        spec.maximumLineBytes = 1 << 20
        let lines = LineCollector()
        let outcome = try StageProcess.runBlocking(spec, cancellation: StageProcess.Cancellation(), onStart: { _ in }, onLine: lines.add)
        return Result(status: outcome.exitCode, stdout: lines.text(.stdout), stderr: lines.text(.stderr), summary: outcome.summary)
    }

    /// Collects lines on the thread that runs the process.
    final class LineCollector: @unchecked Sendable {
        // @unchecked: written and read on the one thread of `run`.
        private var lines: [LogLine] = []
        func add(_ line: LogLine) { lines.append(line) }
        func text(_ stream: LogLine.Stream) -> String {
            lines.filter { $0.stream == stream }.map { $0.text + "\n" }.joined()
        }
    }
}
