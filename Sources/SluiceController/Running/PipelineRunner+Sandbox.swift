import FoundationEssentials
import SluiceRunner
#if canImport(Glibc)
import Glibc
#endif

/// The sandbox around a command stage (see `StageSandbox`): a merge request's stages, or every
/// stage with `sandbox: all`.
extension PipelineRunner {
    /// Confines `process` to its workspace and a private scratch folder (its HOME and TMPDIR).
    /// Returns why the stage must not run: its scratch folder cannot be made, or it is a merge
    /// request's and this kernel cannot sandbox (unless the repository allows unsandboxed runs).
    func confine(_ process: inout ProcessSpec, work: Work, workspace: String, scratch: String, say: (String) -> Void) -> String? {
        switch options.sandboxSupport {
        case .available(let abi):
            do {
                try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            } catch {
                return "cannot create the stage's scratch folder \(scratch): \(error)"
            }
            process.environment["HOME"] = scratch
            process.environment["TMPDIR"] = scratch
            process.sandbox = (StageSandbox.policy(workspace: workspace, scratch: scratch, stateDirectory: stateDirectory,
                                                   path: process.environment["PATH"], controllerHome: options.environment["HOME"],
                                                   protected: options.protectedPaths), abi)
            say("sandboxed (\(options.sandboxSupport)): writes only its workspace and a private scratch folder")
            return nil
        case .unavailable(let reason):
            if work.cacheScope.isMergeRequest, !work.allowUnsandboxed {
                return "refused: merge-request stages run only in the sandbox, which is unavailable here (\(reason)); "
                    + "allow unsandboxed merge-request runs for this repository (merge-requests: { allow-unsandboxed: true }) only if every author is trusted"
            }
            say("not sandboxed: the sandbox is unavailable here (\(reason))")
            return nil
        }
    }

    /// Removes a stage's scratch folder, and the run's scratch folder once it is empty.
    func removeScratch(_ scratch: String, say: (String) -> Void) {
        guard FileManager.default.fileExists(atPath: scratch) else { return }
        do { try FileManager.default.removeItem(atPath: scratch) } catch {
            say("could not remove the scratch folder \(scratch): \(error)")
        }
        let run = String(scratch[..<(scratch.lastIndex(of: "/") ?? scratch.endIndex)])
        rmdir(run)  // fails while another stage of the run still has its folder: that one removes it
    }
}
