import ArgumentParser
import FoundationEssentials
import SluiceController
import SluiceCore

struct Validate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check sluice.yaml and report every problem as path:line:col.",
        discussion: "Exit 0 when valid, 1 when there are errors, 2 when the file cannot be read."
    )

    @OptionGroup var global: GlobalOptions

    @Argument(help: "A sluice.yaml file or a folder holding one (default: the --repo folder).")
    var path: String?

    func run() async throws {
        var target = path ?? global.repo
        var isDirectory = false
        if FileManager.default.fileExists(atPath: target, isDirectory: &isDirectory), isDirectory {
            target = (target.hasSuffix("/") ? target : target + "/") + "sluice.yaml"
        }
        let root = Self.folder(of: target)
        let result: SpecLoader.Result
        do {
            result = try SpecLoader.load(path: target, repositoryRoot: root, displayName: Self.display(target))
        } catch {
            throw Output.fail(error)
        }
        let gateProblems = result.spec.map { GateCheck.diagnostics($0, repositoryRoot: root) } ?? []
        let diagnostics = DiagnosticRenderer.sorted(result.diagnostics + gateProblems)
        let valid = result.spec != nil && !gateProblems.hasErrors
        switch global.format {
        case .json:
            try Output.json(SpecValidationReport(file: Self.display(target), valid: valid, diagnostics: diagnostics))
        case .text:
            for d in diagnostics { Output.out(DiagnosticRenderer.line(d)) }
            if let spec = result.spec, valid {
                Output.out("\(Self.display(target)): valid (\(spec.stages.count) stages, \(spec.datasets.count) datasets)")
            } else {
                let n = diagnostics.filter { $0.severity == .error }.count
                Output.out("\(n) error\(n == 1 ? "" : "s") in \(Self.display(target))")
            }
        }
        if !valid { throw ExitCode(1) }
    }

    static func folder(of file: String) -> String {
        guard let slash = file.lastIndex(of: "/") else { return "." }
        return slash == file.startIndex ? "/" : String(file[..<slash])
    }

    static func display(_ path: String) -> String {
        path.hasPrefix("./") ? String(path.dropFirst(2)) : path
    }
}

struct SpecValidationReport: Encodable {
    var file: String
    var valid: Bool
    var diagnostics: [Diagnostic]
}
