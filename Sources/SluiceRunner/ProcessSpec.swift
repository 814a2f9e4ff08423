public import SluiceCore

/// What to run for one stage, and the limits it runs under.
public struct ProcessSpec: Sendable {
    /// argv; `arguments[0]` is looked up on PATH when it has no slash.
    public var arguments: [String]
    public var workingDirectory: String
    /// The complete environment of the process (nothing else is inherited).
    public var environment: [String: String]
    public var timeoutSeconds: Double?
    /// After SIGTERM on timeout or cancellation, how long before SIGKILL.
    public var killGraceSeconds: Double = 5
    /// Output bytes kept per stage; the rest is read and dropped, and the log says so.
    public var outputLimitBytes: Int = 50 << 20
    /// A single line longer than this is cut (the rest of it is dropped).
    public var maximumLineBytes: Int = 64 << 10
    public var masker: SecretMasker
    /// Confines the process (nil: not sandboxed). `abi` is the kernel's Landlock version.
    public var sandbox: (policy: SandboxPolicy, abi: Int)?

    public init(arguments: [String], workingDirectory: String, environment: [String: String],
                timeoutSeconds: Double? = nil, masker: SecretMasker = SecretMasker()) {
        self.arguments = arguments
        self.workingDirectory = workingDirectory
        self.environment = environment
        self.timeoutSeconds = timeoutSeconds
        self.masker = masker
    }

    /// `run: "..."` goes to `/bin/sh -c` exactly as written; `run: [...]` runs directly.
    public static func arguments(for command: StageSpec.Command) -> [String] {
        switch command {
        case .shell(let text): return ["/bin/sh", "-c", text]
        case .argv(let argv): return argv
        }
    }
}

/// One line of a stage's output, already masked.
public struct LogLine: Sendable, Hashable {
    public enum Stream: String, Sendable, Hashable, Codable { case stdout = "out", stderr = "err", sluice }
    /// Seconds since the Unix epoch.
    public var time: Double
    public var stream: Stream
    public var text: String

    public init(time: Double, stream: Stream, text: String) {
        self.time = time
        self.stream = stream
        self.text = text
    }

    /// What a stored log line adds to the text: `2026-11-29T18:41:22.123Z out ` and the newline.
    public static let storedOverheadBytes = 24 + 1 + 3 + 1 + 1
}

/// How a stage process ended.
public struct ProcessOutcome: Sendable, Hashable {
    /// The process's id (also its process group's).
    public var pid: Int32 = 0
    public var exitCode: Int32?
    public var signal: Int32?
    public var timedOut = false
    public var cancelled = false
    /// Output beyond `outputLimitBytes` was dropped.
    public var outputTruncated = false
    public var outputBytes = 0
    /// Processes of the stage's group still ran after the stage exited and were killed.
    public var killedLeftovers = false
    public var seconds: Double = 0

    public var succeeded: Bool { exitCode == 0 && !timedOut && !cancelled }

    /// A sentence for the log and the run store.
    public var summary: String {
        var parts: [String] = []
        if timedOut { parts.append("timed out after \(Int(seconds))s; process group killed") }
        else if cancelled { parts.append("cancelled; process group killed") }
        else if let exitCode {
            // The shell's own codes: what a user who mistyped a command needs to read.
            parts.append("exited with code \(exitCode)" + (exitCode == 127 ? " (command not found)" : exitCode == 126 ? " (not executable)" : ""))
        }
        else if let signal { parts.append("killed by signal \(signal)") }
        if outputTruncated { parts.append("output truncated: \(outputBytes) bytes printed, only the first part kept") }
        if killedLeftovers { parts.append("processes it left running were killed") }
        return parts.joined(separator: "; ")
    }
}
