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
        // The files sluice.yaml names are checked too: the policy and the data schemas.
        let named = result.spec.map { GateCheck.diagnostics($0, repositoryRoot: root) + DataSchemaCheck.diagnostics($0, repositoryRoot: root) } ?? []
        let diagnostics = DiagnosticRenderer.sorted(result.diagnostics + named)
        let valid = result.spec != nil && !named.hasErrors
        // What a run would read from the commit rather than from this working tree.
        let read = [target] + (result.spec?.configurationFiles.map { root + "/" + $0 } ?? [])
        let notes = UncommittedFiles.notes(files: read)
        switch global.format {
        case .json:
            try Output.json(SpecValidationReport(file: Self.display(target), valid: valid, diagnostics: diagnostics, notes: notes))
        case .text:
            for d in diagnostics { Output.out(DiagnosticRenderer.line(d)) }
            for note in notes { Output.out("note: \(note)") }
            if let spec = result.spec, valid {
                Output.out("\(Self.display(target)): valid (\(Output.count(spec.stages.count, "stage")), \(Output.count(spec.datasets.count, "dataset")))")
            } else {
                Output.out(Self.summary(diagnostics.filter { $0.severity == .error }))
            }
        }
        if !valid { throw ExitCode(1) }
    }

    /// "2 errors in schemas/iris.yaml", or per file when several have errors.
    static func summary(_ errors: [Diagnostic]) -> String {
        var files: [String] = []
        var counts: [String: Int] = [:]
        for e in errors {
            let file = display(e.location.file)
            if counts[file] == nil { files.append(file) }
            counts[file, default: 0] += 1
        }
        let total = "\(errors.count) error\(errors.count == 1 ? "" : "s")"
        if files.count == 1 { return "\(total) in \(files[0])" }
        return "\(total): " + files.map { "\(counts[$0]!) in \($0)" }.joined(separator: ", ")
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
    /// Files the commit has otherwise than the working tree (`UncommittedFiles`).
    var notes: [String]
}
