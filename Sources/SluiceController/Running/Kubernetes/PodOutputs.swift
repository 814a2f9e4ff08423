import FoundationEssentials
import SluiceCore
import SluiceRunner

/// Takes the declared outputs out of the archive a stage's pod sent back into the run's
/// workspace. The archive comes from the pod, which may run untrusted code: it is unpacked
/// into an empty folder of its own (GNU tar refuses `..` members and absolute names), and
/// only the declared paths move into the workspace; anything else in it is dropped.
enum PodOutputs {
    static func unpack(_ archive: String, paths: [String], into workspace: String, scratch: String) throws {
        let unpacked = scratch + "/unpacked"
        let fm = FileManager.default
        if fm.fileExists(atPath: unpacked) { try fm.removeItem(atPath: unpacked) }
        try fm.createDirectory(atPath: unpacked, withIntermediateDirectories: true)
        // What is left in `unpacked` (undeclared files) goes with the stage's scratch folder.
        let result = try Command.run(["tar", "-xf", archive, "-C", unpacked, "--no-same-owner", "--no-same-permissions"],
                                     workingDirectory: scratch, environment: ["PATH": "/usr/bin:/bin"], timeoutSeconds: 3600)
        guard result.status == 0 else {
            throw LoadError(message: "tar could not unpack the outputs (\(result.summary)): \(result.stderr.prefix(300))")
        }
        for path in paths {
            let relative = RepositoryPath.normalized(path)
            guard !relative.isEmpty, !relative.hasPrefix("../"), relative != ".." else { continue }
            let source = unpacked + "/" + relative
            guard fm.fileExists(atPath: source) else { continue }  // storing the outputs reports what is missing
            let destination = workspace + "/" + relative
            if fm.fileExists(atPath: destination) { try fm.removeItem(atPath: destination) }
            if let slash = relative.lastIndex(of: "/") {
                try fm.createDirectory(atPath: workspace + "/" + relative[..<slash], withIntermediateDirectories: true)
            }
            try fm.moveItem(atPath: source, toPath: destination)
        }
    }
}
