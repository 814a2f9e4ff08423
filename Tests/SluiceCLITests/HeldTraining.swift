import Foundation
import SluiceTestSupport

/// A repository whose pipeline is `prepare`, then `train`, which holds (up to two minutes) until
/// the test releases it: a test kills the process running it in the middle of the pipeline, then
/// lets the retry finish at once. Each stage appends its name to a file when it starts.
struct HeldTraining {
    let repo: TestRepository
    let folder = TemporaryDirectory(prefix: "sluice-held")

    init() throws {
        repo = try TestRepository()
        try repo.commit("first", files: ["sluice.yaml": """
            version: 1
            stages:
              prepare: { run: "echo prepare >> \(folder.path)/marks" }
              train: { run: "echo train >> \(folder.path)/marks; test -f \(folder.path)/release || sleep 120", needs: [prepare] }
            """])
    }

    /// The stages started so far, in order.
    func started() -> [String] {
        ((try? String(contentsOfFile: folder.path + "/marks", encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    /// `train` finishes at once from now on.
    func release() { FileManager.default.createFile(atPath: folder.path + "/release", contents: nil) }
}
