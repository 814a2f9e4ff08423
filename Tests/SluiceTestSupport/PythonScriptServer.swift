import Foundation

/// Runs a Python server script that binds 127.0.0.1:0 and prints `PORT <n>`; stops
/// it and removes the script when released. The shared base of the test servers.
public final class PythonScriptServer: @unchecked Sendable {
    // @unchecked: immutable after init; the process is stopped once, in deinit.
    public let process: BackgroundProcess
    public let port: Int
    private let scriptPath: String

    public init(script: String, arguments: [String] = []) throws {
        scriptPath = NSTemporaryDirectory() + "sluice-server-\(UUID().uuidString.prefix(8)).py"
        try script.write(toFile: scriptPath, atomically: true, encoding: .utf8)
        process = try BackgroundProcess("python3", ["-u", scriptPath] + arguments, readyPrefix: "PORT ")
        guard let port = Int(process.readyLine.trimmingCharacters(in: .whitespaces)) else {
            throw NSError(domain: "PythonScriptServer", code: 1,
                          userInfo: [NSLocalizedDescriptionKey: "bad port line '\(process.readyLine)'"])
        }
        self.port = port
    }

    deinit {
        process.stop()
        try? FileManager.default.removeItem(atPath: scriptPath)
    }
}
