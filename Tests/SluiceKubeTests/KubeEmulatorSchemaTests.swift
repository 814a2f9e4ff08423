import Foundation
import Testing
import SluiceTestSupport

/// The emulator validates against the published Kubernetes schemas (the kubernetes-validate
/// package); without them it would accept what a real API server refuses, so it refuses to start.
@Suite struct KubeEmulatorSchemaTests {
    static let script = RepositoryLayout.root() + "/Tests/SluiceTestSupport/kube_emulator.py"

    /// Starts the emulator with `kubernetes_validate` replaced by `module` (a package folder's `__init__.py`).
    func start(withModule module: String, schemasFolder: Bool) throws -> ProcessResult {
        let fake = TemporaryDirectory(prefix: "sluice-fake-validate")
        _ = fake.write("kubernetes_validate/__init__.py", module)
        if schemasFolder { _ = fake.write("kubernetes_validate/kubernetes-json-schema/README", "no strict schemas here\n") }
        return try ProcessRunner.run("python3", [Self.script, "32"], environment: ["PYTHONPATH": fake.path])
    }

    @Test func withoutThePackageItRefusesToStartAndSaysWhy() throws {
        let r = try start(withModule: "raise ImportError('No module named kubernetes_validate')\n", schemasFolder: false)
        #expect(r.status == 2)
        #expect(r.stdout.contains("kube_emulator: cannot start: the published Kubernetes schemas are missing"), "\(r.stdout)")
        #expect(r.stderr.contains("pip install kubernetes-validate"), "\(r.stderr)")
        #expect(!r.stdout.contains("PORT"))
    }

    @Test func withoutStrictSchemasItRefusesToStart() throws {
        let r = try start(withModule: "", schemasFolder: true)
        #expect(r.status == 2)
        #expect(r.stdout.contains("ships no strict schemas"), "\(r.stdout)")
    }
}
