import Foundation

/// Runs a Python server script that binds 127.0.0.1:0 and prints `PORT <n>`; stops
/// it and removes the script when released. The shared base of the test servers.
public final class PythonScriptServer: @unchecked Sendable {
    // @unchecked: immutable after init; the process is stopped once, in deinit.
    public let process: BackgroundProcess
    public let port: Int
    /// The script's copy, removed when released (nil: a script of the repository, run in place).
    private let scriptPath: String?

    public convenience init(script: String, arguments: [String] = []) throws {
        let path = NSTemporaryDirectory() + "sluice-server-\(UUID().uuidString.prefix(8)).py"
        try script.write(toFile: path, atomically: true, encoding: .utf8)
        try self.init(path: path, arguments: arguments, owned: true)
    }

    /// Runs a script in place (it may import its neighbours).
    public convenience init(path: String, arguments: [String] = []) throws {
        try self.init(path: path, arguments: arguments, owned: false)
    }

    private init(path: String, arguments: [String], owned: Bool) throws {
        scriptPath = owned ? path : nil
        process = try BackgroundProcess("python3", ["-u", path] + arguments, readyPrefix: "PORT ")
        guard let port = Int(process.readyLine.trimmingCharacters(in: .whitespaces)) else {
            throw NSError(domain: "PythonScriptServer", code: 1,
                          userInfo: [NSLocalizedDescriptionKey: "bad port line '\(process.readyLine)'"])
        }
        self.port = port
    }

    deinit {
        process.stop()
        if let scriptPath { try? FileManager.default.removeItem(atPath: scriptPath) }
    }
}
