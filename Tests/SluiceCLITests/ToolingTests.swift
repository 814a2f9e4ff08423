import Foundation
import Testing
import SluiceTestSupport

/// Under CI every tool the tests drive is installed (a broken install fails here, by name,
/// instead of quietly skipping the tests that need it).
@Suite struct ToolingTests {
    @Test(.enabled(if: RequiredTools.underCI, "not under CI=true"))
    func everyToolTheTestsDriveIsInstalled() throws {
        for command in RequiredTools.commands {
            #expect(ProcessRunner.has(command), "\(command) is not installed; .ci/run installs it (.ci/apt-packages.txt, .ci/requirements.txt)")
        }
        #expect(Browser.chromium != nil, "chromium is not installed")
        let yaml = try ProcessRunner.run("python3", ["-c", "import yaml, jsonschema, scipy, pandas"])
        #expect(yaml.status == 0, "python3 lacks the test packages: \(yaml.stderr)")
    }
}
