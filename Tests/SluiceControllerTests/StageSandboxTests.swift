import Foundation
import Testing
import SluiceTestSupport
@testable import SluiceController

/// What a sandboxed stage is granted: protected paths are carved out of any tree that holds them.
@Suite struct StageSandboxTests {
    @Test func protectedPathsAreCarvedOutOfGrantedTrees() throws {
        let dir = TemporaryDirectory()
        for path in ["tools/bin/x", "state/sluice.sqlite", "state/workspaces/run-1/f", "other/y"] { _ = dir.write(path, "") }
        let root = try #require(StageSandbox.realPath(dir.path))
        let grants = StageSandbox.carve(root, excluding: [root + "/state"])
        #expect(Set(grants) == [root + "/tools", root + "/other"], "\(grants)")
        #expect(StageSandbox.carve(root + "/tools", excluding: [root + "/state"]) == [root + "/tools"])
        #expect(StageSandbox.carve(root + "/state", excluding: [root + "/state"]).isEmpty)
    }

    @Test func thePolicyNeverGrantsTheStateFolderTheConfigurationOrHome() throws {
        let dir = TemporaryDirectory()
        _ = dir.write("state/sluice.sqlite", "")
        _ = dir.write("home/.config/sluice/controller.yaml", "")
        _ = dir.write("venv/pyvenv.cfg", "home = /usr/bin\n")
        _ = dir.write("venv/bin/python3", "")
        let root = try #require(StageSandbox.realPath(dir.path))
        let policy = StageSandbox.policy(workspace: root + "/state/workspaces/run-1", scratch: root + "/state/scratch/run-1/a",
                                         stateDirectory: root + "/state", path: "\(root):\(root)/venv/bin:/usr/bin",
                                         controllerHome: root + "/home", protected: [root + "/home/.config/sluice/controller.yaml"])
        #expect(!policy.read.contains { $0 == root || $0.hasPrefix(root + "/state") || $0.hasPrefix(root + "/home") }, "\(policy.read)")
        #expect(policy.read.contains(root + "/venv"), "the virtual environment on PATH is readable")
        #expect(policy.read.contains("/usr"))
        #expect(policy.write == [root + "/state/workspaces/run-1", root + "/state/scratch/run-1/a"])
        #expect(StageSandbox.pythonHome(venv: root + "/venv") == "/usr")
        // A PATH entry inside the state folder (another run's workspace) is not granted either.
        _ = dir.write("state/workspaces/run-9/bin/tool", "")
        let inside = StageSandbox.policy(workspace: root + "/state/workspaces/run-1", scratch: root + "/state/scratch/run-1/a",
                                         stateDirectory: root + "/state", path: "\(root)/state/workspaces/run-9/bin:/usr/bin",
                                         controllerHome: nil, protected: [])
        #expect(!inside.read.contains { $0.hasPrefix(root + "/state") }, "\(inside.read)")
    }
}
